import AITBCWire
import Foundation

/// What a caller asks for when creating a key (already decoded from the wire).
public struct NewKeyRequest: Sendable {
    public var name: String
    public var role: String
    public var scopes: [String]?
    public var expiresAt: Date?
    public var rateLimitPerMinute: Int?
    public var metadata: [String: JSONValue]?
    public var tenantID: String?
    /// The balance the key starts with and its refill; nil: it spends no credits.
    public var credits: CreditsRequest?

    /// nil: the creator's own list; `[]`: usable from anywhere.
    public var allowedIPs: [String]?

    public init(
        name: String, role: String, scopes: [String]? = nil, expiresAt: Date? = nil, rateLimitPerMinute: Int? = nil,
        metadata: [String: JSONValue]? = nil, tenantID: String? = nil, credits: CreditsRequest? = nil,
        allowedIPs: [String]? = nil
    ) {
        self.credits = credits
        self.name = name
        self.role = role
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.rateLimitPerMinute = rateLimitPerMinute
        self.metadata = metadata
        self.tenantID = tenantID
        self.allowedIPs = allowedIPs
    }
}

/// A key together with its secret, as answered once by create and regenerate.
public struct IssuedKey: Sendable {
    public var record: APIKeyRecord
    public var secret: String
}

/// Per-key usage assembled from storage and the not-yet-written counters.
public struct KeyUsage: Sendable {
    public var record: APIKeyRecord
    public var minutes: [(minute: Int64, counts: UsageCounts)]
    public var lastUse: LastUse?
}

/// Managing API keys: create, list, get, revoke, regenerate, usage, audit, with the access rules.
public struct KeyService: Sendable {
    /// Longest grace period a regeneration may keep the old secret valid: 7 days.
    public static let maximumGracePeriod: Int = 7 * 24 * 3600

    let store: any KeyStore & AuditStore & UsageStore
    let authenticator: KeyAuthenticator
    let usage: UsageRecorder
    let time: any TimeSource
    let secrets: any SecretSource
    /// Tells other instances on a shared store which keys changed.
    let bus: any ClusterBus
    /// Where keys' credit balances are kept.
    public let meters: SpendingMeters?

    public init(
        store: any KeyStore & AuditStore & UsageStore, authenticator: KeyAuthenticator, usage: UsageRecorder, time: any TimeSource,
        secrets: any SecretSource, bus: any ClusterBus = StandaloneBus(), meters: SpendingMeters? = nil
    ) {
        self.meters = meters
        self.store = store
        self.authenticator = authenticator
        self.usage = usage
        self.time = time
        self.secrets = secrets
        self.bus = bus
    }

    /// Creates a key; the secret is returned here and never again.
    public func create(_ request: NewKeyRequest, by caller: Principal) async throws -> IssuedKey {
        try caller.require(.keysWrite)
        let now = time.now()
        let tenantID = try targetTenant(request.tenantID, for: caller)
        guard try await authenticator.tenant(id: tenantID) != nil else {
            throw CoordinatorError.notFound(.tenantNotFound, "No tenant \(tenantID) exists")
        }
        let name = try Self.validName(request.name)
        guard let role = Role(rawValue: request.role) else {
            throw CoordinatorError.invalidField("role", "role must be one of client, miner, master, operator")
        }
        let scopes = try Self.validScopes(request.scopes, for: role)
        if let expiresAt = request.expiresAt, expiresAt <= now {
            throw CoordinatorError.invalidField("expires_at", "expires_at must be in the future")
        }
        if let limit = request.rateLimitPerMinute { try Self.validate(rateLimitPerMinute: limit) }
        // Left out, a bound of the creator's is inherited: a key never outlives or outpaces its creator.
        let expiresAt = request.expiresAt ?? caller.key.expiresAt
        let rateLimitPerMinute = request.rateLimitPerMinute ?? caller.key.rateLimitPerMinute
        let credits = try request.credits.map { try Self.validCredits($0, existing: nil) }
        let allowedIPs = try Self.allowedIPs(request.allowedIPs, inheriting: caller.key.allowedIPs)
        try await requireDelegable(
            KeyReach(role: role, permissions: scopes ?? role.permissions, expiresAt: expiresAt,
                rateLimitPerMinute: rateLimitPerMinute, allowedIPs: allowedIPs),
            for: .create, target: tenantID, in: tenantID, by: caller,
            also: try await creditGaps(credits, by: caller))
        let metadata = request.metadata ?? [:]
        try Self.validate(metadata: metadata)

        var issued = issue(
            role: role, name: name, tenantID: tenantID, scopes: scopes, expiresAt: expiresAt,
            rateLimitPerMinute: rateLimitPerMinute, metadata: metadata, allowedIPs: allowedIPs, at: now)
        issued.record.credits = credits.map { KeyCredits(refill: $0.refill) }
        let record = issued.record
        var data: [String: JSONValue] = ["name": .string(name), "role": .string(role.rawValue)]
        if let allowedIPs { data["allowed_ips"] = Self.auditValue(allowedIPs) }
        if let credits { data["credits"] = Self.auditValue(remaining: credits.remaining, refill: credits.refill) }
        let event = makeEvent(.keyCreated, tenantID: tenantID, actor: caller.key.id, target: record.id, at: now, data: data)
        // The balance first: a key answered as created must not find its balance missing.
        if let credits {
            try await meters?.setBalance(keyID: record.id, remaining: credits.remaining, refill: credits.refill)
        }
        try await storageCall { try await store.insertKey(record, event: event) }
        authenticator.remember(record)
        return issued
    }

    /// A new key with a fresh secret, not yet stored.
    func issue(
        role: Role, name: String, tenantID: String, scopes: Set<Permission>? = nil, expiresAt: Date? = nil,
        rateLimitPerMinute: Int? = nil, metadata: [String: JSONValue] = [:], allowedIPs: IPAllowList? = nil, at now: Date
    ) -> IssuedKey {
        let secret = APIKeyFormat.generate(role: role, using: secrets)
        let record = APIKeyRecord(
            id: "key_" + secrets.base62(count: 20), tenantID: tenantID, name: name, role: role,
            scopes: scopes, digest: APIKeyDigest(of: secret), hint: APIKeyFormat.hint(for: secret), createdAt: now,
            expiresAt: expiresAt, rateLimitPerMinute: rateLimitPerMinute, metadata: metadata, allowedIPs: allowedIPs)
        return IssuedKey(record: record, secret: secret)
    }

    /// One page of keys visible to `caller`, newest first.
    public func list(by caller: Principal, after cursor: ListCursor?, limit: Int) async throws -> [APIKeyRecord] {
        try caller.require(.keysRead)
        // Read beside the flusher, never between its taking the counts and writing them.
        return try await usage.flushes.run {
            let records = try await storageCall {
                try await store.keys(tenantID: caller.actingTenantID, after: cursor, limit: limit)
            }
            return records.map(withUnwrittenLastUse)
        }
    }

    /// `record` with its last use as recorded in memory, when that is newer than the stored one.
    func withUnwrittenLastUse(_ record: APIKeyRecord) -> APIKeyRecord {
        guard let pending = usage.unwrittenLastUse(keyID: record.id), pending.at > (record.lastUsedAt ?? .distantPast)
        else { return record }
        var record = record
        record.lastUsedAt = pending.at
        record.lastUsedFrom = pending.from
        return record
    }

    /// The key `id`, if `caller` may see it (else 404, so ids of other tenants are not confirmed).
    public func get(_ id: String, by caller: Principal) async throws -> APIKeyRecord {
        try caller.require(.keysRead)
        // Read beside the flusher, never between its taking the counts and writing them.
        return try await usage.flushes.run { withUnwrittenLastUse(try await visibleKey(id, to: caller)) }
    }

    /// Revokes `id`; from the moment this returns, the key is refused. Revoking twice is fine.
    public func revoke(_ id: String, by caller: Principal) async throws -> APIKeyRecord {
        try caller.require(.keysWrite)
        let existing = try await visibleKey(id, to: caller)
        try await requireDelegable(existing, for: .revoke, by: caller)
        let now = time.now()
        let event = makeEvent(.keyRevoked, tenantID: existing.tenantID, actor: caller.key.id, target: id, at: now)
        let outcome = try await storageCall { try await store.revokeKey(id: id, at: now, event: event) }
        switch outcome {
        case .revoked(let record), .alreadyRevoked(let record):
            authenticator.remember(record)
            // This instance refuses the key already; the others forget it on hearing this.
            await bus.publish(.keyChanged(digests: [record.digest] + (record.previousDigest.map { [$0] } ?? [])))
            return record
        case .lastMasterKey:
            throw MasterKeyRule.refusal
        case .notFound:
            throw Self.keyNotFound
        }
    }

    /// Gives `id` a new secret; the old one keeps working for `gracePeriodSeconds`.
    public func regenerate(_ id: String, gracePeriodSeconds: Int, by caller: Principal) async throws -> IssuedKey {
        try caller.require(.keysWrite)
        guard (0...Self.maximumGracePeriod).contains(gracePeriodSeconds) else {
            throw CoordinatorError.invalidField(
                "grace_period_seconds", "grace_period_seconds must be 0 … \(Self.maximumGracePeriod) (7 days)")
        }
        let existing = try await visibleKey(id, to: caller)
        try await requireDelegable(existing, for: .regenerate, by: caller)
        let now = time.now()
        guard existing.isActive(at: now) else {
            throw CoordinatorError.conflictState(
                "Only an active key can be regenerated; this one is \(existing.status(at: now))")
        }
        let secret = APIKeyFormat.generate(role: existing.role, using: secrets)
        let validUntil = gracePeriodSeconds > 0 ? now.addingTimeInterval(TimeInterval(gracePeriodSeconds)) : nil
        let event = makeEvent(
            .keyRegenerated, tenantID: existing.tenantID, actor: caller.key.id, target: id, at: now,
            data: ["grace_period_seconds": .int(gracePeriodSeconds)])
        let updated = try await storageCall {
            try await store.replaceSecret(
                id: id, digest: APIKeyDigest(of: secret), hint: APIKeyFormat.hint(for: secret),
                previousValidUntil: validUntil, event: event)
        }
        guard let updated else { throw Self.keyNotFound }
        // The replaced secret of an earlier regeneration (if any) stops working now.
        if let older = existing.previousDigest { authenticator.forget(older) }
        await bus.publish(.keyChanged(digests: [existing.digest] + (existing.previousDigest.map { [$0] } ?? [])))
        authenticator.forget(existing.digest)
        authenticator.remember(updated)
        return IssuedKey(record: updated, secret: secret)
    }

    /// Changes name, scopes, expiry, limit, metadata or allow-list of `id` (absent fields stay; `.some(nil)` clears),
    /// within the delegation rule: the key must be within the caller's reach before and after.
    public func update(_ id: String, _ change: UpdateAPIKeyRequest, by caller: Principal) async throws -> APIKeyRecord {
        try caller.require(.keysWrite)
        let existing = try await visibleKey(id, to: caller)
        try await requireDelegable(existing, for: .update, by: caller)
        let now = time.now()
        guard existing.revokedAt == nil else { throw Self.conflictOrMissing(existing) }
        var changed = existing
        var data: [String: JSONValue] = [:]
        if let name = change.name {
            changed.name = try Self.validName(name)
            data["name"] = .string(changed.name)
        }
        if let scopes = change.scopes {
            changed.scopes = try Self.validScopes(scopes, for: existing.role)
            data["scopes"] = changed.scopes.map { .array($0.sorted().map { .string($0.rawValue) }) } ?? .null
        }
        if let expiresAt = change.expiresAt {
            if let expiresAt, expiresAt <= now {
                throw CoordinatorError.invalidField("expires_at", "expires_at must be in the future")
            }
            changed.expiresAt = expiresAt
            data["expires_at"] = expiresAt.map { .string(RFC3339.string(from: $0)) } ?? .null
        }
        if let limit = change.rateLimitPerMinute {
            if let limit { try Self.validate(rateLimitPerMinute: limit) }
            changed.rateLimitPerMinute = limit
            data["rate_limit_per_minute"] = limit.map { .int($0) } ?? .null
        }
        if let metadata = change.metadata {
            try Self.validate(metadata: metadata)
            changed.metadata = metadata
            data["metadata"] = .bool(true)
        }
        if let allowedIPs = change.allowedIPs {
            changed.allowedIPs = try Self.allowedIPs(allowedIPs)
            data["allowed_ips"] = changed.allowedIPs.map(Self.auditValue) ?? .null
        }
        var newCredits: ValidCredits?
        /// The key's balance as read, when it has one and the change names no `remaining`: only its
        /// refill changes, and what it holds is kept (not set to this reading).
        var refillOnly: CreditBalance?
        if let credits = change.credits {
            let before = try await meters?.balance(of: existing)
            newCredits = try credits.map { try Self.validCredits($0, existing: before) }
            if let credits, credits.remaining == nil { refillOnly = before }
            changed.credits = newCredits.map { KeyCredits(refill: $0.refill) }
            data["credits"] = [
                "from": before.map { Self.auditValue(remaining: $0.remaining, refill: $0.refill) } ?? .null,
                "to": newCredits.map { Self.auditValue(remaining: $0.remaining, refill: $0.refill) } ?? .null,
            ]
        }
        var creditGaps: [String] = []
        if change.credits != nil { creditGaps = try await self.creditGaps(newCredits, by: caller) }
        try await requireDelegable(
            KeyReach(changed), for: .update, target: existing.id, in: existing.tenantID, by: caller, also: creditGaps)
        if let newCredits, let refillOnly {
            try await meters?.changeRefill(keyID: existing.id, from: refillOnly.refill, to: newCredits.refill)
        } else if let newCredits {
            try await meters?.setBalance(keyID: existing.id, remaining: newCredits.remaining, refill: newCredits.refill)
        }
        let event = makeEvent(.keyUpdated, tenantID: existing.tenantID, actor: caller.key.id, target: id, at: now, data: data)
        let stored = try await storageCall { try await store.updateKey(changed, event: event) }
        guard let stored else {
            // Revoked or gone in the meantime.
            throw Self.conflictOrMissing(try await storageCall { try await store.key(id: id) })
        }
        authenticator.remember(stored)
        await bus.publish(.keyChanged(digests: [stored.digest] + (stored.previousDigest.map { [$0] } ?? [])))
        return withUnwrittenLastUse(stored)
    }

    /// 404 when the key is gone, else 409: a revoked key cannot be changed.
    static func conflictOrMissing(_ record: APIKeyRecord?) -> CoordinatorError {
        guard record != nil else { return keyNotFound }
        return CoordinatorError.conflictState(
            "A revoked key cannot be changed",
            details: ["state": .string("revoked")])
    }

    /// Usage of `id` over the last 24 hours, including counts not yet written to storage.
    public func usage(of id: String, by caller: Principal) async throws -> KeyUsage {
        try caller.require(.usageRead)
        let record = try await visibleKey(id, to: caller)
        let since = Int64(time.now().timeIntervalSince1970) / 60 * 60 - 24 * 3600
        let store = self.store, usage = self.usage
        // Counts, the key's stored last use and what is not yet written, read together between
        // flushes: a flush between reading the key and the counts would lose the last use.
        let (stored, unwritten, current) = try await usage.flushes.run {
            let stored = try await storageCall { try await store.usage(keyID: id, sinceMinute: since) }
            let current = try await storageCall { try await store.key(id: id) }
            return (stored, usage.unwritten(keyID: id), current ?? record)
        }
        var merged: [Int64: UsageCounts] = [:]
        for entry in stored { merged[entry.minute, default: UsageCounts()] += entry.counts }
        for (minute, counts) in unwritten.counts where minute >= since { merged[minute, default: UsageCounts()] += counts }
        var lastUse = current.lastUsedAt.map { LastUse(at: $0, from: current.lastUsedFrom) }
        if let pending = unwritten.lastUse, pending.at > (lastUse?.at ?? .distantPast) { lastUse = pending }
        let minutes = merged.sorted { $0.key < $1.key }.map { (minute: $0.key, counts: $0.value) }
        return KeyUsage(record: record, minutes: minutes, lastUse: lastUse)
    }

    /// One page of audit events visible to `caller`, newest first.
    public func auditEvents(by caller: Principal, after cursor: ListCursor?, limit: Int) async throws -> [AuditEvent] {
        try caller.require(.auditRead)
        return try await storageCall {
            try await store.auditEvents(tenantID: caller.actingTenantID, after: cursor, limit: limit)
        }
    }
}

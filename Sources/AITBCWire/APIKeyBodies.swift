import Foundation

/// `POST /v1/api-keys` body.
public struct CreateAPIKeyRequest: Codable, Sendable, Equatable {
    public var name: String
    public var role: String
    public var scopes: [String]?
    public var expiresAt: Date?
    public var rateLimitPerMinute: Int?
    public var metadata: [String: JSONValue]?
    /// Operator only: the tenant to create the key in (else `X-Tenant-ID`, else the operator's own).
    public var tenantID: String?
    /// A balance the key spends (`remaining`, and optionally a `refill`); nil: it spends none.
    public var credits: CreditsRequest?
    /// CIDRs the key may be used from; absent or null: the creator's own list (if any), `[]`: anywhere.
    public var allowedIPs: [String]?

    public init(
        name: String, role: String, scopes: [String]? = nil, expiresAt: Date? = nil,
        rateLimitPerMinute: Int? = nil, metadata: [String: JSONValue]? = nil, tenantID: String? = nil,
        credits: CreditsRequest? = nil, allowedIPs: [String]? = nil
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

    enum CodingKeys: String, CodingKey {
        case name, role, scopes, metadata, credits
        case expiresAt = "expires_at"
        case rateLimitPerMinute = "rate_limit_per_minute"
        case tenantID = "tenant_id"
        case allowedIPs = "allowed_ips"
    }
}

/// `PATCH /v1/api-keys/{key_id}` body: absent fields stay; `null` clears `scopes` (all of the
/// role's), `expires_at` (never), `rate_limit_per_minute` (the tenant's plan) and `allowed_ips`
/// (anywhere; `[]` too).
public struct UpdateAPIKeyRequest: Codable, Sendable, Equatable {
    public var name: String?
    public var scopes: [String]??
    public var expiresAt: Date??
    public var rateLimitPerMinute: Int??
    public var metadata: [String: JSONValue]?
    /// nil: unchanged; `.some(nil)`: the key spends no credits any more; `.some(credits)`: a top-up
    /// or a change of refill.
    public var credits: CreditsRequest??
    /// nil: unchanged; `.some(nil)` or `[]`: anywhere; `.some(list)`: only from these CIDRs.
    public var allowedIPs: [String]??

    public init(
        name: String? = nil, scopes: [String]?? = nil, expiresAt: Date?? = nil, rateLimitPerMinute: Int?? = nil,
        metadata: [String: JSONValue]? = nil, credits: CreditsRequest?? = nil, allowedIPs: [String]?? = nil
    ) {
        self.credits = credits
        self.name = name
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.rateLimitPerMinute = rateLimitPerMinute
        self.metadata = metadata
        self.allowedIPs = allowedIPs
    }

    enum CodingKeys: String, CodingKey {
        case name, scopes, metadata, credits
        case expiresAt = "expires_at"
        case rateLimitPerMinute = "rate_limit_per_minute"
        case allowedIPs = "allowed_ips"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.metadata = try container.decodeIfPresent([String: JSONValue].self, forKey: .metadata)
        self.scopes = try container.decodeNullable([String].self, forKey: .scopes)
        self.expiresAt = try container.decodeNullable(Date.self, forKey: .expiresAt)
        self.rateLimitPerMinute = try container.decodeNullable(Int.self, forKey: .rateLimitPerMinute)
        self.credits = try container.decodeNullable(CreditsRequest.self, forKey: .credits)
        self.allowedIPs = try container.decodeNullable([String].self, forKey: .allowedIPs)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(metadata, forKey: .metadata)
        if let scopes { try container.encode(scopes, forKey: .scopes) }
        if let expiresAt { try container.encode(expiresAt, forKey: .expiresAt) }
        if let rateLimitPerMinute { try container.encode(rateLimitPerMinute, forKey: .rateLimitPerMinute) }
        if let credits { try container.encode(credits, forKey: .credits) }
        if let allowedIPs { try container.encode(allowedIPs, forKey: .allowedIPs) }
    }
}

/// `POST /v1/api-keys/{key_id}/regenerate` body (optional).
public struct RegenerateAPIKeyRequest: Codable, Sendable, Equatable {
    /// How long the old secret keeps working, 0 … 604800 seconds.
    public var gracePeriodSeconds: Int?

    public init(gracePeriodSeconds: Int? = nil) { self.gracePeriodSeconds = gracePeriodSeconds }

    enum CodingKeys: String, CodingKey { case gracePeriodSeconds = "grace_period_seconds" }
}

/// An API key as listings and lookups show it: never the secret.
public struct APIKeyView: Codable, Sendable, Equatable {
    public var keyID: String
    public var tenantID: String
    public var name: String
    public var role: String
    /// The narrowed permissions, or nil when the key has all of its role's.
    public var scopes: [String]?
    /// Prefix and last four characters, e.g. `aitbc_client_…x9Qz`.
    public var hint: String
    /// `active`, `revoked` or `expired`.
    public var status: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    public var lastUsedAt: Date?
    public var lastUsedFrom: String?
    public var rateLimitPerMinute: Int?
    /// Until when the previous secret still works after a regeneration.
    public var previousSecretValidUntil: Date?
    public var metadata: [String: JSONValue]
    /// The secret: present only in the answer to create and regenerate.
    public var apiKey: String?
    /// The key's credit balance, when it spends credits.
    public var credits: CreditsView?
    /// The CIDRs the key may be used from, canonical (`203.0.113.0/24`, `198.51.100.7/32`); nil: anywhere.
    public var allowedIPs: [String]?

    public init(
        keyID: String, tenantID: String, name: String, role: String, scopes: [String]?, hint: String,
        status: String, createdAt: Date, expiresAt: Date?, revokedAt: Date?, lastUsedAt: Date?,
        lastUsedFrom: String?, rateLimitPerMinute: Int?, previousSecretValidUntil: Date?,
        metadata: [String: JSONValue], apiKey: String? = nil, credits: CreditsView? = nil, allowedIPs: [String]? = nil
    ) {
        self.credits = credits
        self.keyID = keyID
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.scopes = scopes
        self.hint = hint
        self.status = status
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.lastUsedAt = lastUsedAt
        self.lastUsedFrom = lastUsedFrom
        self.rateLimitPerMinute = rateLimitPerMinute
        self.previousSecretValidUntil = previousSecretValidUntil
        self.metadata = metadata
        self.apiKey = apiKey
        self.allowedIPs = allowedIPs
    }

    enum CodingKeys: String, CodingKey {
        case name, role, scopes, hint, status, metadata, credits
        case keyID = "key_id"
        case tenantID = "tenant_id"
        case createdAt = "created_at"
        case expiresAt = "expires_at"
        case revokedAt = "revoked_at"
        case lastUsedAt = "last_used_at"
        case lastUsedFrom = "last_used_from"
        case rateLimitPerMinute = "rate_limit_per_minute"
        case previousSecretValidUntil = "previous_secret_valid_until"
        case apiKey = "api_key"
        case allowedIPs = "allowed_ips"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(hint, forKey: .hint)
        try container.encode(status, forKey: .status)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(revokedAt, forKey: .revokedAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(lastUsedFrom, forKey: .lastUsedFrom)
        try container.encode(rateLimitPerMinute, forKey: .rateLimitPerMinute)
        try container.encode(previousSecretValidUntil, forKey: .previousSecretValidUntil)
        try container.encode(metadata, forKey: .metadata)
        try container.encodeIfPresent(apiKey, forKey: .apiKey)
        try container.encodeIfPresent(credits, forKey: .credits)
        try container.encode(allowedIPs, forKey: .allowedIPs)
    }
}

/// One page of a newest-first listing.
public struct Page<Item: Codable & Sendable & Equatable>: Codable, Sendable, Equatable {
    public var items: [Item]
    /// Pass as `?cursor=` for the next page; null on the last page.
    public var nextCursor: String?
    public var hasMore: Bool

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
        self.hasMore = nextCursor != nil
    }

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encode(hasMore, forKey: .hasMore)
    }
}

/// Request counts in one time bucket.
public struct UsageBucketView: Codable, Sendable, Equatable {
    public var start: Date
    public var admitted: Int
    public var rateLimited: Int
    public var errors: Int

    public init(start: Date, admitted: Int, rateLimited: Int, errors: Int) {
        self.start = start
        self.admitted = admitted
        self.rateLimited = rateLimited
        self.errors = errors
    }

    enum CodingKeys: String, CodingKey {
        case start, admitted, errors
        case rateLimited = "rate_limited"
    }
}

/// `GET /v1/api-keys/{key_id}/usage`.
public struct KeyUsageView: Codable, Sendable, Equatable {
    public var keyID: String
    public var lastUsedAt: Date?
    public var lastUsedFrom: String?
    /// Sums over the last 24 hours.
    public var totals: UsageBucketView
    /// Per minute over the last hour, oldest first; minutes without traffic are left out.
    public var minutes: [UsageBucketView]
    /// Per hour over the last 24 hours, oldest first; hours without traffic are left out.
    public var hours: [UsageBucketView]

    public init(
        keyID: String, lastUsedAt: Date?, lastUsedFrom: String?, totals: UsageBucketView,
        minutes: [UsageBucketView], hours: [UsageBucketView]
    ) {
        self.keyID = keyID
        self.lastUsedAt = lastUsedAt
        self.lastUsedFrom = lastUsedFrom
        self.totals = totals
        self.minutes = minutes
        self.hours = hours
    }

    enum CodingKeys: String, CodingKey {
        case totals, minutes, hours
        case keyID = "key_id"
        case lastUsedAt = "last_used_at"
        case lastUsedFrom = "last_used_from"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(lastUsedFrom, forKey: .lastUsedFrom)
        try container.encode(totals, forKey: .totals)
        try container.encode(minutes, forKey: .minutes)
        try container.encode(hours, forKey: .hours)
    }
}

/// One entry of the audit log.
public struct AuditEventView: Codable, Sendable, Equatable {
    public var eventID: String
    /// `api_key.created`, `api_key.revoked`, `api_key.regenerated`, `tenant.created`, `tenant.updated`, `account.created`.
    public var type: String
    public var tenantID: String
    /// The key that made the change; nil for changes made by the server itself.
    public var actorKeyID: String?
    /// The key or tenant the event is about.
    public var targetID: String
    public var createdAt: Date
    public var data: [String: JSONValue]

    public init(
        eventID: String, type: String, tenantID: String, actorKeyID: String?, targetID: String, createdAt: Date,
        data: [String: JSONValue]
    ) {
        self.eventID = eventID
        self.type = type
        self.tenantID = tenantID
        self.actorKeyID = actorKeyID
        self.targetID = targetID
        self.createdAt = createdAt
        self.data = data
    }

    enum CodingKeys: String, CodingKey {
        case type, data
        case eventID = "event_id"
        case tenantID = "tenant_id"
        case actorKeyID = "actor_key_id"
        case targetID = "target_id"
        case createdAt = "created_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventID, forKey: .eventID)
        try container.encode(type, forKey: .type)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(actorKeyID, forKey: .actorKeyID)
        try container.encode(targetID, forKey: .targetID)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(data, forKey: .data)
    }
}

import AITBCWire
import Foundation

/// What a key could do if its secret were in someone's hands: its permissions, its role, how long
/// it lives, its own rate limit and where it may be used from. The delegation rule compares these.
public struct KeyReach: Sendable, Equatable {
    public var role: Role
    public var permissions: Set<Permission>
    /// nil: it never expires.
    public var expiresAt: Date?
    /// nil: no limit of its own (the tenant's plan applies).
    public var rateLimitPerMinute: Int?
    /// nil: usable from anywhere.
    public var allowedIPs: IPAllowList?

    public init(
        role: Role, permissions: Set<Permission>, expiresAt: Date?, rateLimitPerMinute: Int?,
        allowedIPs: IPAllowList? = nil
    ) {
        self.role = role
        self.permissions = permissions
        self.expiresAt = expiresAt
        self.rateLimitPerMinute = rateLimitPerMinute
        self.allowedIPs = allowedIPs
    }

    /// The reach of a stored key.
    public init(_ record: APIKeyRecord) {
        self.init(
            role: record.role, permissions: record.permissions, expiresAt: record.expiresAt,
            rateLimitPerMinute: record.rateLimitPerMinute, allowedIPs: record.allowedIPs)
    }
}

/// A key-management action, as audit events and refusals name it.
public enum KeyAction: String, Sendable, CaseIterable {
    case create, update, regenerate, revoke
}

extension Principal {
    /// The reach of the calling key itself.
    public var reach: KeyReach {
        KeyReach(
            role: key.role, permissions: permissions, expiresAt: key.expiresAt, rateLimitPerMinute: key.rateLimitPerMinute,
            allowedIPs: key.allowedIPs)
    }

    /// What `target` has that this caller lacks, for `action`; empty when the caller may act on it.
    ///
    /// The rule (DESIGN §2a): a key may act only on keys whose permissions are a subset of its own,
    /// operators included; only an operator acts on operator keys (their permissions reach every
    /// tenant). A key it creates, changes or regenerates (actions that shape a key or hand out its
    /// secret) also never outlives it, never has a higher per-key limit than its own, and, when the
    /// caller may be used only from some addresses, may be used only from addresses inside those (an
    /// unrestricted key is never within such a caller's reach). Revoking takes nothing from anyone, so
    /// it is bounded by permissions alone.
    public func delegationGaps(to target: KeyReach, for action: KeyAction) -> [String] {
        var missing = target.permissions.subtracting(permissions).sorted().map(\.rawValue)
        if target.role == .operator, !isOperator { missing.append("role:operator") }
        guard action != .revoke else { return missing }
        if let ownExpiry = key.expiresAt, (target.expiresAt ?? .distantFuture) > ownExpiry {
            missing.append("expires_at")
        }
        if let ownLimit = key.rateLimitPerMinute, (target.rateLimitPerMinute ?? .max) > ownLimit {
            missing.append("rate_limit_per_minute")
        }
        if let ownList = key.allowedIPs, !(target.allowedIPs.map(ownList.covers) ?? false) {
            missing.append("allowed_ips")
        }
        return missing
    }

    /// The 403 a refused delegation answers, naming what the caller lacks.
    func delegationRefusal(_ missing: [String], for action: KeyAction) -> CoordinatorError {
        var details: [String: JSONValue] = ["missing": .array(missing.map { .string($0) }), "action": .string(action.rawValue)]
        if missing.contains("expires_at"), let ownExpiry = key.expiresAt {
            details["max_expires_at"] = .string(RFC3339.string(from: ownExpiry))
        }
        if missing.contains("rate_limit_per_minute"), let ownLimit = key.rateLimitPerMinute {
            details["max_rate_limit_per_minute"] = .int(ownLimit)
        }
        return CoordinatorError.insufficientScope(
            "A key may \(action.rawValue) only keys that hold nothing it lacks; this one lacks: "
                + missing.joined(separator: ", "),
            details: details)
    }
}

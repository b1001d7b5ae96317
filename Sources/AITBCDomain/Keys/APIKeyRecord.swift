import AITBCWire
import Foundation

/// A stored API key: everything about it except its secret, of which only digests are kept.
public struct APIKeyRecord: Sendable, Equatable {
    /// Public id (`key_…`), used in URLs and listings.
    public var id: String
    public var tenantID: String
    public var name: String
    public var role: Role
    /// The narrowed permissions, or nil for all of the role's.
    public var scopes: Set<Permission>?
    public var digest: APIKeyDigest
    /// The secret replaced by the last regeneration, valid until `previousValidUntil`.
    public var previousDigest: APIKeyDigest?
    public var previousValidUntil: Date?
    public var hint: String
    public var createdAt: Date
    public var expiresAt: Date?
    public var revokedAt: Date?
    /// The key's own limit, lower than its tenant's, or nil.
    public var rateLimitPerMinute: Int?
    public var metadata: [String: JSONValue]
    public var lastUsedAt: Date?
    public var lastUsedFrom: String?
    /// Whether the key spends credits, and how they refill; nil: it spends none.
    public var credits: KeyCredits?
    /// The addresses the key may be used from, or nil: anywhere.
    public var allowedIPs: IPAllowList?

    public init(
        id: String, tenantID: String, name: String, role: Role, scopes: Set<Permission>?, digest: APIKeyDigest,
        previousDigest: APIKeyDigest? = nil, previousValidUntil: Date? = nil, hint: String, createdAt: Date,
        expiresAt: Date? = nil, revokedAt: Date? = nil, rateLimitPerMinute: Int? = nil,
        metadata: [String: JSONValue] = [:], lastUsedAt: Date? = nil, lastUsedFrom: String? = nil,
        credits: KeyCredits? = nil, allowedIPs: IPAllowList? = nil
    ) {
        self.credits = credits
        self.id = id
        self.tenantID = tenantID
        self.name = name
        self.role = role
        self.scopes = scopes
        self.digest = digest
        self.previousDigest = previousDigest
        self.previousValidUntil = previousValidUntil
        self.hint = hint
        self.createdAt = createdAt
        self.expiresAt = expiresAt
        self.revokedAt = revokedAt
        self.rateLimitPerMinute = rateLimitPerMinute
        self.metadata = metadata
        self.lastUsedAt = lastUsedAt
        self.lastUsedFrom = lastUsedFrom
        self.allowedIPs = allowedIPs
    }

    /// The permissions the key actually holds.
    public var permissions: Set<Permission> { scopes ?? role.permissions }

    /// Whether the key may be used at `now`: neither revoked nor expired.
    public func isActive(at now: Date) -> Bool {
        revokedAt == nil && !(expiresAt.map { $0 <= now } ?? false)
    }

    /// `active`, `revoked` or `expired` at `now`.
    public func status(at now: Date) -> String {
        if revokedAt != nil { return "revoked" }
        if let expiresAt, expiresAt <= now { return "expired" }
        return "active"
    }
}

/// A position in a newest-first listing: the last item's creation time and id.
public struct ListCursor: Sendable, Equatable {
    public var createdAtMilliseconds: Int64
    public var id: String

    public init(createdAtMilliseconds: Int64, id: String) {
        self.createdAtMilliseconds = createdAtMilliseconds
        self.id = id
    }

    /// The opaque form clients pass back as `?cursor=`.
    public var token: String {
        let raw = "\(createdAtMilliseconds):\(id)"
        return Data(raw.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// Reads a token made by ``token``; nil for anything else.
    public init?(token: String) {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard token.count <= 200, let data = Data(base64Encoded: base64),
            let raw = String(data: data, encoding: .utf8),
            let colon = raw.firstIndex(of: ":"),
            let milliseconds = Int64(raw[..<colon])
        else { return nil }
        let id = String(raw[raw.index(after: colon)...])
        guard !id.isEmpty else { return nil }
        self.init(createdAtMilliseconds: milliseconds, id: id)
    }
}

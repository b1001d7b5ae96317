import AITBCWire
import Foundation

/// A change worth keeping a record of: a key created, revoked or regenerated, a tenant changed.
public struct AuditEvent: Sendable, Equatable {
    /// What happened.
    public enum Kind: String, Sendable, CaseIterable {
        case keyCreated = "api_key.created"
        case keyRevoked = "api_key.revoked"
        case keyRegenerated = "api_key.regenerated"
        case keyUpdated = "api_key.updated"
        /// A key tried to create or manage a key holding more than itself (DESIGN §2a).
        case delegationRefused = "api_key.delegation_refused"
        case tenantCreated = "tenant.created"
        case tenantUpdated = "tenant.updated"
        case accountCreated = "account.created"
        /// A webhook endpoint failing for 3 days was disabled.
        case webhookDisabled = "webhook.disabled"
    }

    public var id: String
    public var kind: Kind
    public var tenantID: String
    public var actorKeyID: String?
    public var targetID: String
    public var createdAt: Date
    public var data: [String: JSONValue]

    public init(
        id: String, kind: Kind, tenantID: String, actorKeyID: String?, targetID: String, createdAt: Date,
        data: [String: JSONValue] = [:]
    ) {
        self.id = id
        self.kind = kind
        self.tenantID = tenantID
        self.actorKeyID = actorKeyID
        self.targetID = targetID
        self.createdAt = createdAt
        self.data = data
    }
}

import AITBCWire
import Foundation

/// Something that happened to a tenant, kept in the outbox until every subscribed endpoint has it.
/// Its body is `{id, type, created_at, data}`; the data never carries a secret.
public struct WebhookEvent: Sendable, Equatable {
    public var id: String
    public var tenantID: String
    public var type: WebhookEventType
    public var createdAt: Date
    public var data: [String: JSONValue]

    public init(id: String, tenantID: String, type: WebhookEventType, createdAt: Date, data: [String: JSONValue]) {
        self.id = id
        self.tenantID = tenantID
        self.type = type
        self.createdAt = createdAt
        self.data = data
    }

    /// A fresh `evt_…` id (random, 22 base62 characters).
    public static func newID() -> String { "evt_" + SystemSecretSource().base62(count: 22) }

    /// The JSON text an endpoint receives (keys sorted, so a redelivery is byte for byte the same).
    public var body: String {
        JSONValue.object([
            "id": .string(id), "type": .string(type.rawValue),
            "created_at": .string(RFC3339.string(from: createdAt)), "data": .object(data),
        ]).jsonText
    }

    /// An event about `key`: its public fields, never a secret.
    public static func key(_ type: WebhookEventType, _ key: APIKeyRecord, at now: Date) -> WebhookEvent {
        WebhookEvent(id: newID(), tenantID: key.tenantID, type: type, createdAt: now, data: keyData(key, at: now))
    }

    /// The public JSON of a key (the API's key object without `api_key`).
    public static func keyData(_ key: APIKeyRecord, at now: Date) -> [String: JSONValue] {
        func date(_ value: Date?) -> JSONValue { value.map { .string(RFC3339.string(from: $0)) } ?? .null }
        return [
            "key_id": .string(key.id), "tenant_id": .string(key.tenantID), "name": .string(key.name),
            "role": .string(key.role.rawValue),
            "scopes": key.scopes.map { .array($0.map(\.rawValue).sorted().map(JSONValue.string)) } ?? .null,
            "hint": .string(key.hint), "status": .string(key.status(at: now)), "created_at": date(key.createdAt),
            "expires_at": date(key.expiresAt), "revoked_at": date(key.revokedAt),
            "rate_limit_per_minute": key.rateLimitPerMinute.map(JSONValue.int) ?? .null, "metadata": .object(key.metadata),
        ]
    }

    /// The event of `type` about `job` (completed, failed or expired).
    public static func job(_ job: Job, type: WebhookEventType, at now: Date) -> WebhookEvent {
        func date(_ value: Date?) -> JSONValue { value.map { .string(RFC3339.string(from: $0)) } ?? .null }
        let error: JSONValue = job.failure.map { .object(["code": .string($0.code), "message": .string($0.message)]) } ?? .null
        return WebhookEvent(
            id: newID(), tenantID: job.tenantID, type: type, createdAt: now,
            data: [
                "job_id": .string(job.id), "state": .string(job.state.rawValue),
                "assigned_miner_id": job.assignedMinerID.map(JSONValue.string) ?? .null,
                "requested_at": date(job.requestedAt), "expires_at": date(job.expiresAt), "finished_at": date(job.finishedAt),
                "error": error,
            ])
    }
}

import AITBCWire
import Foundation

/// Who may see and act on which key, and what a key's fields may hold.
extension KeyService {
    static let keyNotFound = CoordinatorError.notFound("KEY_NOT_FOUND", "No such API key")

    func visibleKey(_ id: String, to caller: Principal) async throws -> APIKeyRecord {
        guard id.utf8.count <= 64, let record = try await storageCall({ try await store.key(id: id) }),
            caller.canSee(tenantID: record.tenantID)
        else { throw Self.keyNotFound }
        return record
    }

    /// Refuses (403, audited) unless `caller` may act on the stored key `record` (DESIGN §2a).
    func requireDelegable(_ record: APIKeyRecord, for action: KeyAction, by caller: Principal) async throws {
        try await requireDelegable(KeyReach(record), for: action, target: record.id, in: record.tenantID, by: caller)
    }

    /// Refuses (403, audited) unless `caller` may `action` a key of reach `target` in `tenantID`.
    func requireDelegable(
        _ reach: KeyReach, for action: KeyAction, target: String, in tenantID: String, by caller: Principal
    ) async throws {
        let missing = caller.delegationGaps(to: reach, for: action)
        guard !missing.isEmpty else { return }
        let event = makeEvent(
            .delegationRefused, tenantID: tenantID, actor: caller.key.id, target: target, at: time.now(),
            data: ["action": .string(action.rawValue), "missing": .array(missing.map { .string($0) })])
        // The refusal stands whether or not storage takes its record.
        try? await store.insertAuditEvent(event)
        throw caller.delegationRefusal(missing, for: action)
    }

    func targetTenant(_ requested: String?, for caller: Principal) throws -> String {
        if caller.isOperator { return requested ?? caller.actingTenantID ?? caller.key.tenantID }
        if let requested, requested != caller.key.tenantID { throw CoordinatorError.tenantMismatch }
        return caller.key.tenantID
    }

    func makeEvent(
        _ kind: AuditEvent.Kind, tenantID: String, actor: String?, target: String, at now: Date,
        data: [String: JSONValue] = [:]
    ) -> AuditEvent {
        AuditEvent(
            id: "evt_" + secrets.base62(count: 20), kind: kind, tenantID: tenantID, actorKeyID: actor,
            targetID: target, createdAt: now, data: data)
    }

    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw CoordinatorError.invalidField("name", "name must be 1 … 200 characters")
        }
        return name
    }

    /// The scopes of a `role` key as requested: nil for all of the role's; unknown or foreign ones are 400.
    static func validScopes(_ requested: [String]?, for role: Role) throws -> Set<Permission>? {
        guard let requested else { return nil }
        var parsed = Set<Permission>()
        for raw in requested {
            let permission = Permission(rawValue: raw)
            guard Permission.all.contains(permission) else {
                throw CoordinatorError.invalidField("scopes", "Unknown scope \(raw.prefix(64))")
            }
            guard role.permissions.contains(permission) else {
                throw CoordinatorError.invalidField("scopes", "A \(role.rawValue) key cannot hold \(raw)")
            }
            parsed.insert(permission)
        }
        guard !parsed.isEmpty else { throw CoordinatorError.invalidField("scopes", "scopes must not be empty") }
        return parsed
    }

    static func validate(rateLimitPerMinute limit: Int) throws {
        guard (1...1_000_000).contains(limit) else {
            throw CoordinatorError.invalidField("rate_limit_per_minute", "rate_limit_per_minute must be 1 … 1000000")
        }
    }

    static func validate(metadata: [String: JSONValue]) throws {
        guard metadata.count <= 50 else {
            throw CoordinatorError.invalidField("metadata", "metadata may hold at most 50 entries")
        }
        let size = (try? JSONEncoder().encode(metadata).count) ?? .max
        guard size <= 8192 else {
            throw CoordinatorError.invalidField("metadata", "metadata must encode to at most 8 KiB of JSON")
        }
    }
}

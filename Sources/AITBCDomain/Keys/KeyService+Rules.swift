import AITBCWire
import Foundation

/// Who may see and act on which key.
extension KeyService {
    static let keyNotFound = CoordinatorError.notFound(.keyNotFound, "No such API key")

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
        _ reach: KeyReach, for action: KeyAction, target: String, in tenantID: String, by caller: Principal,
        also more: [String] = []
    ) async throws {
        let missing = caller.delegationGaps(to: reach, for: action) + more
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
}

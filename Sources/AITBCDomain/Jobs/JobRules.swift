import AITBCWire
import Foundation

/// The rules the job services share: which jobs a caller sees, a tenant's limits, how JSON is sized,
/// which miner ids are valid, and the errors they answer with.
enum JobRules {
    static let jobNotFound = CoordinatorError.notFound(.jobNotFound, "No such job")

    /// The job `id` if it belongs to the tenant `caller` acts in; 404 `JOB_NOT_FOUND` otherwise.
    static func visibleJob(_ id: String, to caller: Principal, in store: any JobStore) async throws -> Job {
        try await visibleJob(id, tenantID: caller.actingTenantID ?? caller.key.tenantID, in: store)
    }

    /// The job `id` if it belongs to `tenantID`; 404 `JOB_NOT_FOUND` otherwise (ids longer than any
    /// issued are not looked up).
    static func visibleJob(_ id: String, tenantID: String, in store: any JobStore) async throws -> Job {
        guard id.utf8.count <= 64, let job = try await storageCall({ try await store.job(id: id) }), job.tenantID == tenantID
        else { throw jobNotFound }
        return job
    }

    /// The queue limits of `tenantID`'s plan (the caller's own tenant, or the one an operator acts in).
    static func limits(
        of tenantID: String, for caller: Principal, quotas: JobQuotaTable, in store: any TenantStore
    ) async throws -> TenantJobLimits {
        if tenantID == caller.tenant.id { return quotas.limits(for: caller.tenant.plan) }
        guard let tenant = try await storageCall({ try await store.tenant(id: tenantID) }) else {
            throw CoordinatorError.notFound(.tenantNotFound, "No tenant \(tenantID) exists")
        }
        return quotas.limits(for: tenant.plan)
    }

    /// `value` as canonical JSON (sorted keys): what sizes are measured and digests taken on.
    static func canonical(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(value)
        } catch {
            throw CoordinatorError.invalidField("payload", "The payload cannot be represented as JSON")
        }
    }

    /// `raw` if it is a valid miner id (1 … 128 visible characters); 400 otherwise.
    static func validMinerID(_ raw: String) throws -> String {
        guard !raw.isEmpty, raw.utf8.count <= 128, raw.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F })
        else { throw CoordinatorError.invalidField("miner_id", "miner_id must be 1 … 128 visible characters") }
        return raw
    }

    /// 429 `JOB_QUOTA_EXCEEDED` naming the tenant's quota that was reached.
    static func quotaExceeded(_ quota: String, limit: Int, current: Int) -> CoordinatorError {
        CoordinatorError(
            .rateLimited(retryAfterSeconds: 5), code: .jobQuotaExceeded,
            message: "The tenant's plan allows \(limit) \(quota.replacingOccurrences(of: "_", with: " ")); it has \(current)",
            details: ["quota": .string(quota), "limit": .int(limit), "current": .int(current)])
    }

    /// 413 `PAYLOAD_TOO_LARGE` naming the field over its bound.
    static func tooLarge(_ field: String, limit: Int) -> CoordinatorError {
        .payloadTooLarge(
            "\(field) may be at most \(limit) bytes of JSON", details: ["field": .string(field), "limit_bytes": .int(limit)])
    }

    /// 409 `CONFLICT_STATE`: `verb` does not apply to a job in `job`'s state.
    static func conflict(_ job: Job, _ verb: String) -> CoordinatorError {
        .conflictState("Cannot \(verb) a job that is \(job.state.rawValue)", details: ["state": .string(job.state.rawValue)])
    }

    /// 403 `MINER_NOT_OWNED`: the miner id belongs to another key.
    static func minerNotOwned(_ id: String) -> CoordinatorError {
        CoordinatorError(
            .forbidden, code: .minerNotOwned,
            message: "This miner id belongs to another key; a master key of the tenant can release it "
                + "(DELETE /v1/miners/{miner_id})",
            details: ["miner_id": .string(id)])
    }
}

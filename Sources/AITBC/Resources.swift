import AITBCWire
import AsyncHTTPClient
import Foundation
import NIOHTTP1

extension AITBCClient {
    /// `client.jobs`: submit, read, cancel and wait for jobs.
    public struct Jobs: Sendable {
        let client: AITBCClient

        /// Submits a job; with `idempotencyKey`, a retry of the same request returns the same job.
        public func create(
            payload: JSONValue, constraints: [String: JSONValue]? = nil, ttlSeconds: Int? = nil,
            idempotencyKey: String? = nil
        ) async throws -> JobView {
            try await client.send(
                .POST, "/v1/jobs", body: SubmitJobRequest(payload: payload, constraints: constraints, ttlSeconds: ttlSeconds),
                headers: idempotencyKey.map { ["Idempotency-Key": $0] } ?? [:]
            ).decode(JobView.self)
        }

        /// One page of the tenant's jobs, newest first.
        public func list(state: String? = nil, limit: Int? = nil, cursor: String? = nil) async throws -> Page<JobView> {
            try await client.send(
                .GET, "/v1/jobs", query: ["state": state, "limit": limit.map(String.init), "cursor": cursor]
            ).decode(Page<JobView>.self)
        }

        public func get(_ jobID: String) async throws -> JobView {
            try await client.send(.GET, "/v1/jobs/\(Path.escape(jobID))").decode(JobView.self)
        }

        public func cancel(_ jobID: String) async throws -> JobView {
            try await client.send(.POST, "/v1/jobs/\(Path.escape(jobID))/cancel").decode(JobView.self)
        }

        /// The result and receipt; a `ConflictError` with code `JOB_NOT_READY` before the job is done.
        public func result(_ jobID: String) async throws -> JobResultView {
            try await client.send(.GET, "/v1/jobs/\(Path.escape(jobID))/result").decode(JobResultView.self)
        }

        /// Polls until the job is COMPLETED, FAILED, CANCELED or EXPIRED (or `timeout` passes);
        /// `progress` sees every state change.
        public func wait(
            for jobID: String, every interval: Duration = .seconds(1), timeout: Duration = .seconds(900),
            progress: (@Sendable (JobView) -> Void)? = nil
        ) async throws -> JobView {
            let deadline = ContinuousClock.now + timeout
            var lastState: String?
            while true {
                let job = try await get(jobID)
                if job.state != lastState {
                    lastState = job.state
                    progress?(job)
                }
                if ["COMPLETED", "FAILED", "CANCELED", "EXPIRED"].contains(job.state) { return job }
                guard ContinuousClock.now + interval < deadline else {
                    throw TransportError(message: "Gave up waiting for \(jobID) after \(timeout); it is \(job.state)")
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// `client.apiKeys`: manage the tenant's keys (master or operator key).
    public struct APIKeys: Sendable {
        let client: AITBCClient

        /// Creates a key; the returned view's `apiKey` holds the secret, shown this once. `allowedIPs`
        /// (CIDRs or addresses) limits where it may be used from; nil: the calling key's own list, `[]`: anywhere.
        public func create(
            name: String, role: String, scopes: [String]? = nil, expiresAt: Date? = nil, rateLimitPerMinute: Int? = nil,
            metadata: [String: JSONValue]? = nil, credits: CreditsRequest? = nil, allowedIPs: [String]? = nil
        ) async throws -> APIKeyView {
            try await client.send(
                .POST, "/v1/api-keys",
                body: CreateAPIKeyRequest(
                    name: name, role: role, scopes: scopes, expiresAt: expiresAt, rateLimitPerMinute: rateLimitPerMinute,
                    metadata: metadata, credits: credits, allowedIPs: allowedIPs)
            ).decode(APIKeyView.self)
        }

        /// Every key, newest first, fetched page by page as the sequence is iterated.
        public func list(pageSize: Int = 20) -> KeyListing { KeyListing(client: client, pageSize: pageSize) }

        /// One page of keys.
        public func page(limit: Int = 20, cursor: String? = nil) async throws -> Page<APIKeyView> {
            try await client.send(.GET, "/v1/api-keys", query: ["limit": String(limit), "cursor": cursor])
                .decode(Page<APIKeyView>.self)
        }

        public func get(_ keyID: String) async throws -> APIKeyView {
            try await client.send(.GET, "/v1/api-keys/\(Path.escape(keyID))").decode(APIKeyView.self)
        }

        /// Changes a key within the delegation rule: nil leaves a field, `.some(nil)` clears
        /// `scopes` (all of the role's), `expiresAt` (never), `rateLimitPerMinute` (the plan's) or
        /// `allowedIPs` (anywhere).
        @discardableResult
        public func update(
            _ keyID: String, name: String? = nil, scopes: [String]?? = nil, expiresAt: Date?? = nil,
            rateLimitPerMinute: Int?? = nil, metadata: [String: JSONValue]? = nil, credits: CreditsRequest?? = nil, allowedIPs: [String]?? = nil
        ) async throws -> APIKeyView {
            try await client.send(
                .PATCH, "/v1/api-keys/\(Path.escape(keyID))",
                body: UpdateAPIKeyRequest(
                    name: name, scopes: scopes, expiresAt: expiresAt, rateLimitPerMinute: rateLimitPerMinute,
                    metadata: metadata, credits: credits, allowedIPs: allowedIPs)
            ).decode(APIKeyView.self)
        }

        /// Sets the credit balance of `keyID` to `remaining` (audited; master or operator).
        @discardableResult
        public func topUp(_ keyID: String, remaining: Int) async throws -> APIKeyView {
            try await update(keyID, credits: .some(CreditsRequest(remaining: remaining)))
        }

        /// Revokes the key; it is refused from the moment this returns.
        @discardableResult
        public func revoke(_ keyID: String) async throws -> APIKeyView {
            try await client.send(.DELETE, "/v1/api-keys/\(Path.escape(keyID))").decode(APIKeyView.self)
        }

        /// A new secret for the key; the old one keeps working for `gracePeriod`.
        public func regenerate(_ keyID: String, gracePeriod: Duration = .zero) async throws -> APIKeyView {
            try await client.send(
                .POST, "/v1/api-keys/\(Path.escape(keyID))/regenerate",
                body: RegenerateAPIKeyRequest(gracePeriodSeconds: Int(gracePeriod.components.seconds))
            ).decode(APIKeyView.self)
        }

        public func usage(_ keyID: String) async throws -> KeyUsageView {
            try await client.send(.GET, "/v1/api-keys/\(Path.escape(keyID))/usage").decode(KeyUsageView.self)
        }
    }

    /// The keys of a listing, following `next_cursor` page by page.
    public struct KeyListing: AsyncSequence, Sendable {
        public typealias Element = APIKeyView
        let client: AITBCClient
        let pageSize: Int

        public func makeAsyncIterator() -> Iterator { Iterator(keys: APIKeys(client: client), pageSize: pageSize) }

        public struct Iterator: AsyncIteratorProtocol {
            let keys: APIKeys
            let pageSize: Int
            var buffer: [APIKeyView] = []
            var cursor: String?
            var finished = false

            public mutating func next() async throws -> APIKeyView? {
                while buffer.isEmpty {
                    guard !finished else { return nil }
                    let page = try await keys.page(limit: pageSize, cursor: cursor)
                    buffer = page.items
                    cursor = page.nextCursor
                    finished = page.nextCursor == nil
                }
                return buffer.removeFirst()
            }
        }
    }

    /// `client.miners`: what a miner does (miner key).
    public struct Miners: Sendable {
        let client: AITBCClient

        public func register(
            minerID: String? = nil, capabilities: [String: JSONValue], concurrency: Int? = nil, region: String? = nil
        ) async throws -> MinerView {
            try await client.send(
                .POST, "/v1/miners/register", query: ["miner_id": minerID],
                body: RegisterMinerRequest(capabilities: capabilities, concurrency: concurrency, region: region)
            ).decode(MinerView.self)
        }

        public func heartbeat(
            minerID: String? = nil, inflight: Int = 0, status: String = "ONLINE", metadata: [String: JSONValue] = [:]
        ) async throws -> MinerView {
            try await client.send(
                .POST, "/v1/miners/heartbeat", query: ["miner_id": minerID],
                body: HeartbeatRequest(inflight: inflight, status: status, metadata: metadata)
            ).decode(MinerView.self)
        }

        /// Long-polls for work; nil when none came within `maxWait`.
        public func poll(minerID: String? = nil, maxWait: Duration = .seconds(15)) async throws -> AssignedJobView? {
            let seconds = Double(maxWait.components.seconds) + Double(maxWait.components.attoseconds) / 1e18
            let answer = try await client.send(
                .POST, "/v1/miners/poll", query: ["miner_id": minerID], body: PollRequest(maxWaitSeconds: seconds),
                timeout: client.configuration.timeout + maxWait)
            guard answer.status == 200 else { return nil }
            return try answer.decode(AssignedJobView.self)
        }

        /// Delivers a result; pass the poll's `attempt` so that a result of an assignment taken back
        /// meanwhile is refused (409) instead of landing on the job's next assignment.
        @discardableResult
        public func submitResult(
            _ jobID: String, minerID: String? = nil, attempt: Int? = nil, result: JSONValue,
            metrics: [String: JSONValue]? = nil
        ) async throws -> JobView {
            try await client.send(
                .POST, "/v1/miners/\(Path.escape(jobID))/result", query: ["miner_id": minerID],
                body: JobResultRequest(result: result, metrics: metrics, attempt: attempt)
            ).decode(JobView.self)
        }

        @discardableResult
        public func fail(
            _ jobID: String, minerID: String? = nil, attempt: Int? = nil, errorCode: String, errorMessage: String,
            metrics: [String: JSONValue]? = nil
        ) async throws -> JobView {
            try await client.send(
                .POST, "/v1/miners/\(Path.escape(jobID))/fail", query: ["miner_id": minerID],
                body: JobFailRequest(errorCode: errorCode, errorMessage: errorMessage, metrics: metrics, attempt: attempt)
            ).decode(JobView.self)
        }

        /// Releases a miner id (its own key, or a master key of the tenant): its running jobs go back
        /// to the queue and another key may register it.
        @discardableResult
        public func release(_ minerID: String) async throws -> MinerReleasedView {
            try await client.send(.DELETE, "/v1/miners/\(Path.escape(minerID))").decode(MinerReleasedView.self)
        }

        @discardableResult
        public func drain(minerID: String? = nil) async throws -> MinerView {
            try await client.send(.POST, "/v1/miners/drain", query: ["miner_id": minerID]).decode(MinerView.self)
        }
    }

    /// `client.tenants`: the operator's tenant administration.
    public struct Tenants: Sendable {
        let client: AITBCClient

        /// Creates a tenant; the answer's `masterKey.apiKey` is its first master key, shown once.
        public func create(id: String? = nil, name: String, plan: String) async throws -> TenantView {
            try await client.send(.POST, "/v1/tenants", body: CreateTenantRequest(tenantID: id, name: name, plan: plan))
                .decode(TenantView.self)
        }

        public func list(limit: Int = 20, cursor: String? = nil) async throws -> Page<TenantView> {
            try await client.send(.GET, "/v1/tenants", query: ["limit": String(limit), "cursor": cursor])
                .decode(Page<TenantView>.self)
        }

        public func get(_ tenantID: String) async throws -> TenantView {
            try await client.send(.GET, "/v1/tenants/\(Path.escape(tenantID))").decode(TenantView.self)
        }

        /// Changes the plan, the custom limit and/or the quota overrides (`.some(nil)` clears one).
        public func update(
            _ tenantID: String, plan: String? = nil, rateLimitPerMinute: Int?? = nil, quotaPerDay: Int?? = nil,
            quotaPerMonth: Int?? = nil
        ) async throws -> TenantView {
            try await client.send(
                .PATCH, "/v1/tenants/\(Path.escape(tenantID))",
                body: UpdateTenantRequest(
                    plan: plan, rateLimitPerMinute: rateLimitPerMinute, quotaPerDay: quotaPerDay, quotaPerMonth: quotaPerMonth)
            ).decode(TenantView.self)
        }
    }
}

enum Path {
    static func escape(_ segment: String) -> String {
        segment.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/"))) ?? segment
    }
}

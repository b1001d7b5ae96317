import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The client job routes (wire-compatible with the AITBC coordinator) and the admin statistics.
struct JobController {
    let jobs: JobService

    static let idempotencyHeader = HTTPField.Name("Idempotency-Key")!

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("jobs", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(SubmitJobRequest.self, context: context)
            let (job, created) = try await jobs.submit(
                payload: body.payload, constraints: body.constraints, ttlSeconds: body.ttlSeconds,
                idempotencyKey: request.headers[Self.idempotencyHeader], by: context.principal)
            return JSONResponse.make(status: created ? .created : .ok, job.view)
        }
        group.on("jobs", method: .get) { request, context in
            let page = try PageRequest(request)
            let query = request.uri.queryParameters
            var state: JobState?
            if let raw = query["state"] ?? query["status"], !raw.isEmpty {
                guard let parsed = JobState(loose: String(raw)) else {
                    throw CoordinatorError.invalidField(
                        "state", "state must be one of \(JobState.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                state = parsed
            }
            var offset = 0
            if let raw = query["offset"] {
                guard let value = Int(raw), value >= 0, value <= 1_000_000 else {
                    throw CoordinatorError.invalidField("offset", "offset must be an integer 0 … 1000000")
                }
                offset = value
            }
            let found = try await jobs.list(
                state: state, after: page.cursor, offset: offset, limit: page.fetchLimit, by: context.principal)
            let shown = page.page(found) { ListCursor(createdAtMilliseconds: $0.requestedAt.unixMilliseconds, id: $0.id) }
            return JSONResponse.make(Page(items: shown.items.map(\.view), nextCursor: shown.next))
        }
        group.on("jobs/{job_id}", method: .get) { request, context in
            JSONResponse.make(try await jobs.get(try request.parameter("job_id", in: context), by: context.principal).view)
        }
        group.on("jobs/{job_id}/result", method: .get) { request, context in
            let job = try await jobs.result(of: try request.parameter("job_id", in: context), by: context.principal)
            return JSONResponse.make(JobResultView(result: job.result ?? .null, receipt: job.receipt ?? [:]))
        }
        let cancel: @Sendable (Request, AuthenticatedRequestContext) async throws -> Response = { request, context in
            JSONResponse.make(try await jobs.cancel(try request.parameter("job_id", in: context), by: context.principal).view)
        }
        group.on("jobs/{job_id}/cancel", method: .post, use: cancel)
        group.on("jobs/{job_id}", method: .delete, use: cancel)
        group.on("admin/stats", method: .get) { _, context in
            let (stats, depth, online) = try await jobs.statistics(by: context.principal)
            let completed = stats.byState[.completed] ?? 0
            let failed = stats.byState[.failed] ?? 0
            return JSONResponse.make(
                StatsView(
                    queueDepth: depth, running: stats.byState[.running] ?? 0, minersOnline: online,
                    jobsByState: Dictionary(uniqueKeysWithValues: JobState.allCases.map { ($0.rawValue, stats.byState[$0] ?? 0) }),
                    successRate: completed + failed == 0 ? nil : Double(completed) / Double(completed + failed),
                    averageSecondsToCompletion: stats.averageSecondsToCompletion))
        }
    }
}

/// The miner routes: register, heartbeat, long-poll, results, failures, drain.
struct MinerController {
    let miners: MinerService
    /// The caps on long-polls waiting at once per key and per tenant.
    let longPolls: LongPollSlots

    static let minerHeader = HTTPField.Name("X-Miner-ID")!

    /// The miner id a call names: `?miner_id=` or `X-Miner-ID`, else nil.
    static func minerID(_ request: Request) -> String? {
        if let query = request.uri.queryParameters["miner_id"], !query.isEmpty { return String(query) }
        return request.headers[minerHeader]
    }

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("miners/register", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(RegisterMinerRequest.self, context: context, empty: RegisterMinerRequest())
            let miner = try await miners.register(
                minerID: Self.minerID(request), capabilities: body.capabilities ?? [:], concurrency: body.concurrency,
                region: body.region, by: context.principal)
            return JSONResponse.make(await view(of: miner))
        }
        group.on("miners/heartbeat", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(HeartbeatRequest.self, context: context, empty: HeartbeatRequest())
            let miner = try await miners.heartbeat(
                minerID: Self.minerID(request), inflight: body.inflight, status: body.status, metadata: body.metadata,
                by: context.principal)
            return JSONResponse.make(await view(of: miner))
        }
        group.on("miners/drain", method: .post) { request, context in
            let miner = try await miners.drain(minerID: Self.minerID(request), by: context.principal)
            return JSONResponse.make(await view(of: miner))
        }
        group.on("miners/poll", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(PollRequest.self, context: context, empty: PollRequest())
            // A poll that may wait holds a slot until it ends, however it ends; one that asks not to
            // wait needs none. Permission first: a key that may not poll gets 403, never 429.
            var slot: LongPollSlots.Slot?
            if body.maxWaitSeconds.map({ $0 > 0 }) ?? true {
                try context.principal.require(.minersWrite)
                slot = try longPolls.acquire(
                    keyID: context.principal.key.id,
                    tenantID: context.principal.actingTenantID ?? context.principal.key.tenantID)
            }
            defer { slot.map(longPolls.release) }
            // A poll that has to wait watches its connection for the client leaving.
            let presence = ConnectionPresence(channel: context.channel)
            defer { presence.stop() }
            guard
                let job = try await miners.poll(
                    minerID: Self.minerID(request), maxWaitSeconds: body.maxWaitSeconds, by: context.principal,
                    presence: presence)
            else { return Response(status: .noContent) }
            return JSONResponse.make(
                AssignedJobView(jobID: job.id, payload: job.payload, constraints: job.constraints ?? [:], attempt: job.attempts))
        }
        // One capture name at this position for the router: `{job_id}` of the result and fail routes
        // (the API document calls it `{miner_id}`: OpenAPIDocument.documentedPath).
        group.on("miners/{job_id}", method: .delete) { request, context in
            let id = try request.parameter("job_id", in: context)
            let requeued = try await miners.release(minerID: id, by: context.principal)
            return JSONResponse.make(MinerReleasedView(minerID: id, requeuedJobs: requeued))
        }
        group.on("miners/{job_id}/result", method: .post) { request, context in
            var request = request
            let id = try request.parameter("job_id", in: context)
            let body = try await request.decodeJSON(JobResultRequest.self, context: context)
            let job = try await miners.complete(
                id, minerID: Self.minerID(request), attempt: body.attempt, result: body.result, metrics: body.metrics,
                by: context.principal)
            return JSONResponse.make(job.view)
        }
        group.on("miners/{job_id}/fail", method: .post) { request, context in
            var request = request
            let id = try request.parameter("job_id", in: context)
            let body = try await request.decodeJSON(JobFailRequest.self, context: context, empty: JobFailRequest())
            let job = try await miners.fail(
                id, minerID: Self.minerID(request), attempt: body.attempt, code: body.errorCode, message: body.errorMessage,
                metrics: body.metrics, by: context.principal)
            return JSONResponse.make(job.view)
        }
    }

    func view(of miner: Miner) async -> MinerView {
        let running = await miners.runningCount(of: MinerKey(tenantID: miner.tenantID, minerID: miner.id))
        return MinerView(
            minerID: miner.id, status: miner.status.rawValue, concurrency: miner.concurrency, region: miner.region,
            running: running, capabilities: miner.capabilities, registeredAt: miner.registeredAt,
            lastSeenAt: miner.lastSeenAt)
    }
}

extension Job {
    /// The wire form clients read.
    var view: JobView {
        JobView(
            jobID: id, state: state.rawValue, assignedMinerID: assignedMinerID, requestedAt: requestedAt,
            expiresAt: expiresAt, error: failure?.message, errorCode: failure?.code, ttlSeconds: ttlSeconds,
            startedAt: startedAt, finishedAt: finishedAt)
    }
}

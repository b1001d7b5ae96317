import AITBC
import AITBCDomain
import Foundation
import Testing

/// The SDK against a live server on loopback: every resource call and every error type.
@Suite struct SDKTests {
    @Test func jobsFromSubmitToResult() async throws {
        try await LiveServer.run { url, coordinator in
            let client = try LiveServer.sdk(url, key: LiveServer.client)
            let miner = try LiveServer.sdk(url, key: LiveServer.miner)
            let job = try await client.jobs.create(payload: ["type": "inference", "prompt": "hello"], ttlSeconds: 600)
            #expect(job.state == "QUEUED")
            #expect(job.assignedMinerID == nil)
            #expect(job.expiresAt.timeIntervalSince(job.requestedAt) == 600)
            let again = try await client.jobs.create(payload: ["type": "inference", "prompt": "hello"], ttlSeconds: 600, idempotencyKey: "k1")
            let replay = try await client.jobs.create(payload: ["type": "inference", "prompt": "hello"], ttlSeconds: 600, idempotencyKey: "k1")
            #expect(again.jobID == replay.jobID)

            await #expect(throws: ConflictError.self) { try await client.jobs.result(job.jobID) }
            let registered = try await miner.miners.register(
                minerID: "gpu-1", capabilities: ["gpu": ["model": "RTX 4090", "memory_gb": 24]], concurrency: 2)
            #expect(registered.minerID == "gpu-1")
            let beat = try await miner.miners.heartbeat(minerID: "gpu-1", inflight: 1, metadata: ["host": "box-7"])
            #expect(beat.minerID == "gpu-1")
            #expect(beat.status == "ONLINE")
            // What the SDK sent reached the store.
            let stored = try #require(try await coordinator.store.miner(tenantID: "test-tenant", id: "gpu-1"))
            #expect(stored.reportedInflight == 1)
            #expect(stored.metadata == ["host": "box-7"])
            let assigned = try #require(try await miner.miners.poll(minerID: "gpu-1", maxWait: .seconds(2)))
            #expect(assigned.jobID == job.jobID)
            #expect(assigned.payload["prompt"] == "hello")
            try await miner.miners.submitResult(assigned.jobID, minerID: "gpu-1", result: ["text": "hi"], metrics: ["ms": 5])
            let finished = try await client.jobs.wait(for: job.jobID, every: .milliseconds(50), timeout: .seconds(5))
            #expect(finished.state == "COMPLETED")
            let result = try await client.jobs.result(job.jobID)
            #expect(result.result["text"] == "hi")
            #expect(result.receipt["job_id"]?.stringValue == job.jobID)

            let second = try #require(try await miner.miners.poll(minerID: "gpu-1", maxWait: .seconds(2)))
            try await miner.miners.fail(second.jobID, minerID: "gpu-1", errorCode: "OOM", errorMessage: "out of memory")
            #expect(try await client.jobs.get(second.jobID).state == "FAILED")
            #expect(try await miner.miners.poll(minerID: "gpu-1", maxWait: .milliseconds(200)) == nil)

            let third = try await client.jobs.create(payload: ["n": 3])
            #expect(try await client.jobs.cancel(third.jobID).state == "CANCELED")
            let page = try await client.jobs.list(limit: 2)
            #expect(page.items.count == 2)
            #expect(page.hasMore)
            _ = try await miner.miners.drain(minerID: "gpu-1")
        }
    }

    @Test func aMinerThatLeavesALongPollIsNotHandedTheNextJob() async throws {
        try await LiveServer.run { url, coordinator in
            let miner = try LiveServer.sdk(url, key: LiveServer.miner)
            let client = try LiveServer.sdk(url, key: LiveServer.client)
            _ = try await miner.miners.register(minerID: "leaver", capabilities: [:], concurrency: 1)
            func waitUntil(_ what: String, _ condition: () async -> Bool) async throws {
                // Wide for a loaded machine (the whole suite beside it), and still half the poll's 60 s.
                let deadline = ContinuousClock.now + .seconds(30)
                while await !condition() {
                    guard ContinuousClock.now < deadline else { throw ExpectationTimeout(what: what) }
                    try await Task.sleep(for: .milliseconds(10))
                }
            }
            let polling = Task { try await miner.miners.poll(minerID: "leaver", maxWait: .seconds(60)) }
            try await waitUntil("the poll waits") { await coordinator.miners.waitingPolls() == 1 }
            // The miner stops (or its HTTP client gives up): the request is cancelled, the connection closed.
            polling.cancel()
            _ = try? await polling.value
            // The server sees the connection close and stops waiting, long before the poll's 60 s.
            try await waitUntil("the abandoned poll ends") { await coordinator.miners.waitingPolls() == 0 }
            // So the next job is not handed to a request nobody reads: it stays queued...
            let job = try await client.jobs.create(payload: ["n": 1])
            #expect(try await client.jobs.get(job.jobID).state == "QUEUED")
            // ...for the miner's next poll.
            let assigned = try await miner.miners.poll(minerID: "leaver", maxWait: .seconds(5))
            #expect(assigned?.jobID == job.jobID)
        }
    }

    struct ExpectationTimeout: Error, CustomStringConvertible {
        let what: String
        var description: String { "timed out waiting until \(what)" }
    }

    @Test func apiKeysListFollowsCursorsAcrossPages() async throws {
        try await LiveServer.run { url in
            let master = try LiveServer.sdk(url, key: LiveServer.master)
            var created: [String] = []
            for index in 0..<5 { created.append(try await master.apiKeys.create(name: "k\(index)", role: "client").keyID) }
            var seen: [String] = []
            for try await key in master.apiKeys.list(pageSize: 2) {
                #expect(key.apiKey == nil)
                seen.append(key.keyID)
            }
            #expect(seen.count == 9)
            #expect(Set(created).isSubset(of: Set(seen)))
        }
    }

    @Test func apiKeyLifecycle() async throws {
        try await LiveServer.run { url in
            let master = try LiveServer.sdk(url, key: LiveServer.master)
            let created = try await master.apiKeys.create(
                name: "ci", role: "client", scopes: ["jobs:read"], expiresAt: Date().addingTimeInterval(3600),
                rateLimitPerMinute: 100, metadata: ["team": "ml"])
            let secret = try #require(created.apiKey)
            let user = try LiveServer.sdk(url, key: secret)
            #expect(try await user.me().scopes == ["jobs:read"])
            #expect(try await master.apiKeys.get(created.keyID).name == "ci")

            let rotated = try await master.apiKeys.regenerate(created.keyID, gracePeriod: .seconds(3600))
            let newSecret = try #require(rotated.apiKey)
            #expect(rotated.previousSecretValidUntil != nil)
            #expect(try await user.me().keyID == created.keyID)
            #expect(try await LiveServer.sdk(url, key: newSecret).me().keyID == created.keyID)
            let usage = try await master.apiKeys.usage(created.keyID)
            #expect(usage.totals.admitted >= 2)

            try await master.apiKeys.revoke(created.keyID)
            do {
                _ = try await LiveServer.sdk(url, key: newSecret).me()
                Issue.record("a revoked key was accepted")
            } catch let error as AuthenticationError {
                #expect(error.code == "API_KEY_REVOKED")
                #expect(error.status == 401)
            }
        }
    }

    @Test func tenantsForOperators() async throws {
        try await LiveServer.run { url in
            let op = try LiveServer.sdk(url, key: LiveServer.operator)
            let tenant = try await op.tenants.create(id: "acme", name: "Acme", plan: "free")
            #expect(tenant.rateLimitPerMinute == 60)
            let masterSecret = try #require(tenant.masterKey?.apiKey)
            #expect(try await LiveServer.sdk(url, key: masterSecret).me().tenantID == "acme")
            #expect(try await op.tenants.update("acme", plan: "pro").rateLimitPerMinute == 600)
            #expect(try await op.tenants.update("acme", rateLimitPerMinute: .some(5000)).rateLimitPerMinute == 5000)
            #expect(try await op.tenants.get("acme").customRateLimitPerMinute == 5000)
            #expect(try await op.tenants.list().items.contains { $0.tenantID == "acme" })
            let scoped = try AITBCClient(apiKey: LiveServer.operator, baseURL: url, tenantID: "acme")
            let keys = try await scoped.apiKeys.page(limit: 10)
            // Acme's first master key, and only it.
            #expect(keys.items.map(\.keyID) == [tenant.masterKey?.keyID])
            #expect(keys.items.allSatisfy { $0.tenantID == "acme" })
        }
    }

    @Test func errorsArriveAsTypesCarryingCodeAndMessage() async throws {
        try await LiveServer.run { url in
            do {
                _ = try await LiveServer.sdk(url, key: "not-a-key").me()
                Issue.record("no error")
            } catch let error as AuthenticationError {
                #expect(error.code == "INVALID_API_KEY")
                #expect(error.message == "The provided API key is invalid")
            }
            let client = try LiveServer.sdk(url, key: LiveServer.client)
            await #expect(throws: PermissionError.self) { _ = try await client.apiKeys.page() }
            do {
                _ = try await client.jobs.get("job_missing")
                Issue.record("no error")
            } catch let error as NotFoundError {
                #expect(error.code == "JOB_NOT_FOUND")
            }
            do {
                _ = try await LiveServer.sdk(url, key: LiveServer.master).apiKeys.create(name: "x", role: "wizard")
                Issue.record("no error")
            } catch let error as ValidationError {
                #expect(error.field == "role")
            }
            do {
                _ = try await LiveServer.sdk("http://127.0.0.1:9", key: "k").me()
                Issue.record("no error")
            } catch let error as TransportError {
                #expect(error.code == "TRANSPORT_ERROR")
            }
            let me = try await client.me()
            #expect(me.role == "client")
            let state = try #require(client.lastRateLimit)
            #expect(state.limit == 6000)
            #expect(state.remaining < 6000)
        }
    }

    @Test func rateLimitIsATypedErrorAndIsRetriedHonouringRetryAfter() async throws {
        try await LiveServer.run(plan: "free") { url in
            let impatient = try LiveServer.sdk(url, key: LiveServer.client, retries: 0)
            // 60 at once, then one a second: on a busy machine a few more may get through before the 429.
            var refusal: RateLimitError?
            for _ in 0..<120 {
                do {
                    _ = try await impatient.jobs.list(limit: 1)
                } catch let error as RateLimitError {
                    refusal = error
                    break
                }
            }
            do {
                if let refusal { throw refusal }
                Issue.record("no 429")
            } catch let error as RateLimitError {
                #expect(error.code == "RATE_LIMIT_EXCEEDED")
                #expect(error.retryAfter >= 1)
                #expect(error.limit == 60)
                #expect(error.remaining == 0)
                #expect(error.reset != nil)
            }
            let patient = try LiveServer.sdk(url, key: LiveServer.client, retries: 2)
            // Empty the budget right before: the patient client is refused, waits for Retry-After
            // and succeeds. The budget refills one a second, at a moment the test cannot see, so
            // the refill can land between the emptying and the patient call and let it through at
            // once; that round then proves nothing and is tried again. Without retries every
            // round would throw.
            var waited: [Duration] = []
            for _ in 0..<5 where waited.last.map({ $0 < .milliseconds(900) }) ?? true {
                var empty = false
                for _ in 0..<120 where !empty {
                    do { _ = try await impatient.jobs.list(limit: 1) } catch is RateLimitError { empty = true }
                }
                #expect(empty)
                let start = ContinuousClock.now
                _ = try await patient.jobs.list(limit: 1)
                waited.append(ContinuousClock.now - start)
            }
            #expect(waited.contains { $0 >= .milliseconds(900) }, "never waited for Retry-After: \(waited)")
        }
    }

    @Test func storageOutageIsAServerErrorAfterRetries() async throws {
        try await LiveServer.run { url, coordinator in
            let client = try LiveServer.sdk(url, key: LiveServer.client, retries: 1)
            _ = try await client.me()  // the key is now known in memory
            try await coordinator.store.close()
            let start = ContinuousClock.now
            do {
                _ = try await client.jobs.get("job_anything")
                Issue.record("no error")
            } catch let error as ServerError {
                #expect(error.code == "STORAGE_UNAVAILABLE")
                #expect(error.status == 503)
            }
            // One retry of the 503 happened (exponential back-off of about a second, no Retry-After).
            #expect(ContinuousClock.now - start >= .milliseconds(900))
        }
    }

    @Test func missingKeyNamesTheVariable() {
        #expect(throws: AuthenticationError.self) { try AITBCClient(apiKey: "", baseURL: "http://127.0.0.1:1") }
        do {
            _ = try AITBCClient(apiKey: "", baseURL: "http://127.0.0.1:1")
        } catch {
            #expect("\(error)".contains("AITBC_API_KEY"))
        }
    }
}

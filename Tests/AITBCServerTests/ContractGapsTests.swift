import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Contract points of DESIGN.md that no other suite pins down: the 500 answer, rate-limit headers
/// on 400/409/413/425, how a miner is named, the job TTL and development-plan defaults, and
/// query-string keys kept out of `/metrics`.
@Suite struct ContractGapsTests {
    /// An unexpected failure whose description carries what must never reach a client.
    struct LeakyFailure: Error, CustomStringConvertible, LocalizedError {
        static let internals = [
            "SELECT digest FROM api_keys", "/src/Sources/AITBCStorage/SQLite/SQLiteStore.swift:123", "LeakyFailure",
            "0x00007f3a", "constraint failed",
        ]
        var description: String { "SQLITE_CONSTRAINT: SELECT digest FROM api_keys WHERE id = 'key_1' (constraint failed) at /src/Sources/AITBCStorage/SQLite/SQLiteStore.swift:123 0x00007f3a" }
        var errorDescription: String? { description }
    }

    /// Every 500 is the contract's error shape with code INTERNAL_ERROR, and says nothing of the
    /// failure: no description, SQL, source path or type name. (No storage failure becomes a 500:
    /// the domain answers those 503 STORAGE_UNAVAILABLE; a 500 is whatever else a handler throws,
    /// provoked here by a route added to the application's own router and middleware.)
    @Test func anUnexpectedErrorIsA500InTheErrorShapeWithNoInternals() async throws {
        let harness = try await Harness.make(plan: "pro")
        let built = try buildRouter(coordinator: harness.coordinator, settings: harness.settings)
        built.v1.get("explode") { _, _ -> Response in throw LeakyFailure() }
        built.router.get("/explode") { _, _ -> Response in throw LeakyFailure() }
        try await Application(router: built.router).test(.router) { client in
            for (path, key) in [("/v1/explode", Harness.clientKey as String?), ("/explode", nil)] {
                let reply = try await client.send(.get, path, key: key)
                #expect(reply.status == .internalServerError, "\(path)")
                #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
                let error = try #require(reply.json["error"]?.objectValue, "\(path): \(reply.text)")
                #expect(Set(error.keys) == ["code", "message", "details"])
                #expect(error["code"] == "INTERNAL_ERROR")
                #expect(error["details"] == JSONValue.object([:]))
                #expect(reply.json.objectValue?.keys.sorted() == ["error"])
                for secret in LeakyFailure.internals {
                    #expect(!reply.text.contains(secret), "\(path) leaked \(secret): \(reply.text)")
                }
                if key != nil {
                    // An authenticated 500 still carries the budget it was charged to.
                    #expect(reply.header("X-RateLimit-Limit") == "600")
                    #expect(reply.header("X-RateLimit-Remaining") == "599")
                }
            }
        }
        try? await harness.coordinator.store.close()
    }

    /// A storage failure that reaches the HTTP layer untranslated (a store call made without
    /// `storageCall`) is still 503 `STORAGE_UNAVAILABLE`, not a 500.
    @Test func anUntranslatedStorageFailureIsA503() async throws {
        let harness = try await Harness.make(plan: "pro")
        let built = try buildRouter(coordinator: harness.coordinator, settings: harness.settings)
        built.v1.get("storage-down") { _, _ -> Response in throw StorageError.unavailable }
        try await Application(router: built.router).test(.router) { client in
            let reply = try await client.send(.get, "/v1/storage-down", key: Harness.clientKey)
            #expect(reply.status == .serviceUnavailable)
            #expect(reply.errorCode == "STORAGE_UNAVAILABLE")
        }
        await harness.close()
    }

    /// 400, 409 (each code), 413 (both causes) and 425 after authentication carry the rate-limit
    /// headers, each request counted once against the budget (the clock stands still: nothing refills).
    @Test func rateLimitHeadersOnEveryErrorAfterAuthenticationCountDownTheBudget() async throws {
        let harness = try await Harness.make(plan: "pro")
        let start = Int64(harness.clock.now().timeIntervalSince1970)
        try await harness.test { client in
            var spent = 0
            func expectCharged(_ reply: Reply, _ status: Int, _ code: String?, _ what: String) {
                spent += 1
                #expect(reply.status.code == status, "\(what): \(reply.text)")
                if let code { #expect(reply.errorCode == code, "\(what)") }
                #expect(reply.header("X-RateLimit-Limit") == "600", "\(what)")
                #expect(reply.header("X-RateLimit-Remaining") == String(600 - spent), "\(what)")
                // Full again once the 0.1 s each request spent has passed, rounded up to a whole second.
                #expect(reply.header("X-RateLimit-Reset") == String(start + Int64((spent + 9) / 10)), "\(what)")
            }
            let submitted = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#)
            expectCharged(submitted, 201, nil, "submit")
            let jobID = try #require(submitted.json["job_id"]?.stringValue)
            expectCharged(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": "#), 400,
                "INVALID_REQUEST", "bad JSON")
            let bigConstraints = #"{"payload": {}, "constraints": {"note": "\#(String(repeating: "m", count: 17_000))"}}"#
            expectCharged(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: bigConstraints), 413,
                "PAYLOAD_TOO_LARGE", "constraints over their bound")
            let bigBody = #"{"payload": "\#(String(repeating: "p", count: 3 << 20))"}"#
            expectCharged(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: bigBody), 413,
                "PAYLOAD_TOO_LARGE", "body over the upload limit")
            expectCharged(
                try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey), 425, "JOB_NOT_READY",
                "result of a queued job")
            expectCharged(try await client.send(.post, "/v1/jobs/\(jobID)/cancel", key: Harness.clientKey), 200, nil, "cancel")
            expectCharged(
                try await client.send(.post, "/v1/jobs/\(jobID)/cancel", key: Harness.clientKey), 409, "CONFLICT_STATE",
                "cancel of a canceled job")
            let once = ["Idempotency-Key": "gaps-1"]
            expectCharged(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": 1}"#, headers: once),
                201, nil, "idempotent submit")
            expectCharged(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": 2}"#, headers: once),
                409, "IDEMPOTENCY_CONFLICT", "same idempotency key, other body")
            // The tenant's only master key cannot revoke itself: 409 LAST_MASTER_KEY, same budget.
            let me = try await client.send(.get, "/v1/me", key: Harness.masterKey)
            expectCharged(me, 200, nil, "me")
            let masterID = try #require(me.json["key_id"]?.stringValue)
            expectCharged(
                try await client.send(.delete, "/v1/api-keys/\(masterID)", key: Harness.masterKey), 409, "LAST_MASTER_KEY",
                "revoke of the last master key")
            #expect(spent == 11)
        }
    }

    /// The miner a call names comes from `X-Miner-ID` as well as `?miner_id=`; a call naming none
    /// is the key's most recently registered miner, or else a miner named after the key id.
    @Test func xMinerIDNamesTheMinerAndTheDefaultIsTheLatestRegisteredOrTheKeyID() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let byHeader = try await client.send(
                .post, "/v1/miners/register", key: Harness.minerKey, json: "{}", headers: ["X-Miner-ID": "gpu-header"])
            #expect(byHeader.status == .ok)
            #expect(byHeader.json["miner_id"] == "gpu-header")
            harness.clock.advance(by: 1)
            let byQuery = try await client.send(.post, "/v1/miners/register?miner_id=gpu-query", key: Harness.minerKey, json: "{}")
            #expect(byQuery.json["miner_id"] == "gpu-query")

            // Naming none: the latest registered (gpu-query) takes the job.
            let first = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": 1}"#).json["job_id"]?.stringValue)
            let polledByDefault = try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(polledByDefault.json["job_id"]?.stringValue == first)
            #expect(try await client.send(.get, "/v1/jobs/\(first)", key: Harness.clientKey).json["assigned_miner_id"] == "gpu-query")

            // The header names the earlier one, which the default would not pick.
            let second = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": 2}"#).json["job_id"]?.stringValue)
            let polledByHeader = try await client.send(
                .post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#,
                headers: ["X-Miner-ID": "gpu-header"])
            #expect(polledByHeader.json["job_id"]?.stringValue == second)
            #expect(try await client.send(.get, "/v1/jobs/\(second)", key: Harness.clientKey).json["assigned_miner_id"] == "gpu-header")
            let heartbeat = try await client.send(
                .post, "/v1/miners/heartbeat", key: Harness.minerKey, json: #"{"status": "ONLINE"}"#,
                headers: ["X-Miner-ID": "gpu-header"])
            #expect(heartbeat.json["miner_id"] == "gpu-header")
            #expect(heartbeat.json["running"] == 1)
            let delivered = try await client.send(
                .post, "/v1/miners/\(second)/result", key: Harness.minerKey, json: #"{"result": {"ok": true}}"#,
                headers: ["X-Miner-ID": "gpu-header"])
            #expect(delivered.status == .ok)
            #expect(try await client.send(.get, "/v1/jobs/\(second)", key: Harness.clientKey).json["state"] == "COMPLETED")

            // A miner key that registered nothing works as the miner named after its key id.
            let fresh = try await client.createKey(using: Harness.masterKey, name: "script miner", role: "miner")
            let third = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": 3}"#).json["job_id"]?.stringValue)
            let polledFresh = try await client.send(.post, "/v1/miners/poll", key: try fresh.secret(), json: #"{"max_wait_seconds": 0}"#)
            #expect(polledFresh.json["job_id"]?.stringValue == third)
            #expect(
                try await client.send(.get, "/v1/jobs/\(third)", key: Harness.clientKey).json["assigned_miner_id"]?.stringValue
                    == fresh.keyID)
            let freshBeat = try await client.send(.post, "/v1/miners/heartbeat", key: try fresh.secret(), json: #"{"status": "ONLINE"}"#)
            #expect(freshBeat.json["miner_id"]?.stringValue == fresh.keyID)
        }
    }

    /// A job sent without `ttl_seconds` lives 900 s: stored expiry = submit time + 900 s; the sweep
    /// leaves it QUEUED at 899 s and expires it at 900 s.
    @Test func jobTTLDefaultsTo900SecondsAndTheJobExpiresAtThatEdge() async throws {
        let harness = try await Harness.make()
        let submittedAt = harness.clock.now()
        try await harness.test { client in
            let reply = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"p": 1}}"#)
            #expect(reply.status == .created)
            let view = try reply.decode(JobView.self)
            #expect(view.ttlSeconds == 900)
            #expect(view.expiresAt == submittedAt.addingTimeInterval(900))
            let stored = try #require(try await harness.coordinator.store.job(id: view.jobID))
            #expect(stored.ttlSeconds == 900)
            #expect(stored.expiresAt == submittedAt.addingTimeInterval(900))

            harness.clock.advance(by: 899)
            #expect(await harness.coordinator.sweeper.sweep().expired == 0)
            #expect(try await client.send(.get, "/v1/jobs/\(view.jobID)", key: Harness.clientKey).json["state"] == "QUEUED")
            harness.clock.advance(by: 1)
            try await harness.sweep {
                try await client.send(.get, "/v1/jobs/\(view.jobID)", key: Harness.clientKey).json["state"] == "EXPIRED"
            }
        }
    }

    /// `AITBC_DEV_PLAN` unset: `test-tenant` is on `enterprise`, 6000 requests per minute.
    @Test func developmentTenantIsOnEnterpriseUnlessAITBCDevPlanSaysOtherwise() async throws {
        #expect(CoordinatorSettings().developmentPlan == "enterprise")
        let unset = try CoordinatorSettings.fromEnvironment([:]).developmentPlan
        #expect(unset == "enterprise")
        #expect(try CoordinatorSettings.fromEnvironment(["AITBC_DEV_PLAN": "pro"]).developmentPlan == "pro")

        for (plan, limit) in [(unset, "6000"), ("pro", "600")] {
            let harness = try await Harness.make(configure: { $0.developmentPlan = plan })
            try await harness.test { client in
                let me = try await client.send(.get, "/v1/me", key: Harness.clientKey)
                #expect(me.json["tenant_id"] == "test-tenant")
                #expect(me.json["plan"]?.stringValue == plan)
                #expect(me.header("X-RateLimit-Limit") == limit)
            }
        }
    }

    /// A key sent as `?api_key=` never becomes a metric label: not for a known route, an unknown
    /// path, a wrong method, an invalid key or an error after authentication.
    @Test func queryStringKeysNeverAppearInMetricLabels() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey, name: "query key user")
            let secret = try created.secret()
            let forged = APIKeyFormat.generate(role: .client, using: SystemSecretSource())
            #expect(try await client.send(.get, "/v1/me?api_key=\(secret)").status == .ok)
            #expect(try await client.send(.get, "/v1/jobs/job_nope?api_key=\(secret)").status == .notFound)
            #expect(try await client.send(.get, "/v1/no-such-route?api_key=\(secret)").status == .notFound)
            #expect(try await client.send(.get, "/no/such/path?api_key=\(secret)").status == .notFound)
            #expect(try await client.send(.delete, "/v1/me?api_key=\(secret)").status == .methodNotAllowed)
            #expect(try await client.send(.get, "/v1/me?api_key=\(forged)").status == .unauthorized)
            #expect(try await client.send(.get, "/v1/me?api_key=\(secret)", key: Harness.clientKey).status == .badRequest)
            #expect(try await client.send(.post, "/v1/jobs?api_key=\(secret)", json: "{").status == .badRequest)

            let text = try await client.send(.get, "/metrics", key: Harness.operatorKey).text
            let requestLines = text.split(separator: "\n").filter { $0.hasPrefix("aitbc_http_requests_total{") }
            // The requests were counted (so the check below looks at real labels).
            #expect(text.contains(#"aitbc_http_requests_total{method="GET",route="/v1/me",status="200"} 1"#))
            #expect(text.contains(#"route="NotFound",status="404"} 2"#))
            #expect(requestLines.contains { $0.contains(#"method="DELETE""#) && $0.contains(#"status="405"} 1"#) })
            #expect(text.contains(#"aitbc_authentications_total{outcome="INVALID_API_KEY"} 1"#))
            #expect(requestLines.count >= 6)
            for line in requestLines {
                #expect(!line.contains("?") && !line.contains("api_key") && !line.contains("no-such-route"), "\(line)")
            }
            for leaked in [secret, forged, String(secret.suffix(12)), "api_key="] {
                #expect(!text.contains(leaked), "\(leaked) appeared in /metrics")
            }
        }
    }
}

import AITBCWire
import HTTPTypes
import Testing

@testable import AITBCServer

/// `GET /bench/me`, the baseline of the auth-overhead benchmark: absent unless switched on, and then
/// the same bytes on the wire as the development client key's `GET /v1/me` under the benchmark's
/// lifted limit, without a key.
@Suite struct BenchmarkRouteTests {
    @Test func theRouteIsOffByDefaultAndSwitchedOnBySetting() throws {
        #expect(CoordinatorSettings().benchmarkRoutes == false)
        #expect(try CoordinatorSettings.fromEnvironment(["AITBC_BENCHMARK_ROUTES": "true"]).benchmarkRoutes)
        let documented = CoordinatorSettings.documentation.first { $0.variable == "AITBC_BENCHMARK_ROUTES" }
        #expect(documented?.defaultValue == "false")
        let error = try #require(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment(["AITBC_ENV": "production", "AITBC_BENCHMARK_ROUTES": "true"])
        }
        #expect(error.description.contains("AITBC_BENCHMARK_ROUTES"))
    }

    @Test func withTheSettingOffTheRouteIsNotFound() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            for path in ["/bench/me", "/bench/me-limited"] {
                let reply = try await client.send(.get, path)
                #expect(reply.status == .notFound, "\(path)")
                #expect(reply.json["key_id"] == nil, "\(path)")
            }
        }
    }

    @Test func withTheSettingOnItAnswersTheBytesAndHeadersOfMe() async throws {
        let harness = try await Harness.make { $0.benchmarkRoutes = true }
        try await harness.test { client in
            // What bench/run.sh does before measuring: lift test-tenant's limit to 100,000,000.
            let lifted = try await client.send(
                .patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"rate_limit_per_minute": 100000000}"#)
            #expect(lifted.status == .ok)
            let me = try await client.send(.get, "/v1/me", key: Harness.clientKey)
            let bench = try await client.send(.get, "/bench/me")
            #expect(me.status == .ok)
            #expect(bench.status == .ok)
            #expect(me.header("X-RateLimit-Limit") == "100000000")
            #expect(bench.body.readableBytes == me.body.readableBytes, "\(bench.text) vs \(me.text)")
            let meNames = me.headers.map(\.name.canonicalName)
            let benchNames = bench.headers.map(\.name.canonicalName)
            #expect(meNames.contains("x-ratelimit-remaining"))
            #expect(benchNames == meNames)
            #expect(bench.headers[.contentType] == me.headers[.contentType])
            // The same document, only the rate-limit figures fixed.
            var copy = try bench.decode(MeView.self)
            let real = try me.decode(MeView.self)
            copy.rateLimit = real.rateLimit
            #expect(copy == real)
        }
    }

    @Test func theLimitedTwinAnswersTheBytesAndHeadersOfTheLimitedKeysMe() async throws {
        let harness = try await Harness.make { $0.benchmarkRoutes = true }
        try await harness.test { client in
            // What bench/run.sh's scenario d sets up: a tenant with daily and monthly quotas, and a key
            // of it with credits refilled monthly and an allow-list.
            let created = try await client.send(
                .post, "/v1/tenants", key: Harness.operatorKey,
                json: #"{"tenant_id": "metered", "name": "Metered", "plan": "enterprise"}"#)
            let master = try #require(created.json["master_key"]?["api_key"]?.stringValue, "\(created.text)")
            let patched = try await client.send(
                .patch, "/v1/tenants/metered", key: Harness.operatorKey,
                json: #"{"rate_limit_per_minute": 100000000, "quota_per_day": 1000000000000, "quota_per_month": 1000000000000}"#)
            #expect(patched.status == .ok, "\(patched.text)")
            let key = try await client.send(
                .post, "/v1/api-keys", key: master,
                json: #"{"name": "limited", "role": "client", "credits": {"remaining": 1000000000000, "refill": {"amount": 1000000000000, "interval": "monthly"}}, "allowed_ips": ["127.0.0.0/8", "::1/128"]}"#)
            let limited = try #require(key.json["api_key"]?.stringValue, "\(key.text)")
            // The scenario's first request brings the remaining counts to the width they keep.
            #expect(try await client.send(.get, "/v1/me", key: limited, from: "127.0.0.1").status == .ok)
            let me = try await client.send(.get, "/v1/me", key: limited, from: "127.0.0.1")
            let twin = try await client.send(.get, "/bench/me-limited")
            #expect(me.status == .ok && twin.status == .ok)
            #expect(me.header("X-Quota-Limit") == "1000000000000")
            #expect(twin.body.readableBytes == me.body.readableBytes, "\(twin.text) vs \(me.text)")
            #expect(twin.headers.map(\.name.canonicalName) == me.headers.map(\.name.canonicalName))
            #expect(twin.header("RateLimit-Policy") == me.header("RateLimit-Policy"))
            // The same document, only the figures that move fixed.
            var copy = try twin.decode(MeView.self)
            let real = try me.decode(MeView.self)
            copy.keyID = real.keyID
            copy.rateLimit = real.rateLimit
            copy.quota?.remaining = real.quota?.remaining ?? 0
            copy.quota?.reset = real.quota?.reset ?? 0
            copy.credits?.remaining = real.credits?.remaining ?? 0
            copy.credits?.nextRefillAt = real.credits?.nextRefillAt
            #expect(copy == real)
        }
    }
}

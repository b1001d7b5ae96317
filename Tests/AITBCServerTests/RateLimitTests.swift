import AITBCDomain
import AITBCTestSupport
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Plan budgets, headers, 429s, per-key limits and plan changes, on an injected clock.
@Suite struct RateLimitTests {
    @Test func freePlanAdmitsSixtyInABurstThenOnePerSecond() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            let start = Int64(harness.clock.now().timeIntervalSince1970)
            for index in 1...60 {
                let reply = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
                #expect(reply.status == .ok, "request \(index)")
                #expect(reply.header("X-RateLimit-Limit") == "60")
                #expect(reply.header("X-RateLimit-Remaining") == String(60 - index))
                #expect(reply.header("X-RateLimit-Reset") == String(start + Int64(index)))
            }
            let refused = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "RATE_LIMIT_EXCEEDED")
            #expect(refused.header("Retry-After") == "1")
            #expect(refused.header("X-RateLimit-Remaining") == "0")
            #expect(refused.header("X-RateLimit-Limit") == "60")
            #expect(refused.header("X-RateLimit-Reset") == String(start + 60))

            // Refused requests cost nothing: hammering while limited does not push the reset out.
            for _ in 0..<10 { _ = try await client.send(.get, "/v1/jobs", key: Harness.clientKey) }
            harness.clock.advance(by: 1)
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok)
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .tooManyRequests)
            harness.clock.advance(by: 1)
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok)
        }
    }

    @Test func allKeysOfATenantShareItsBudget() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            for _ in 0..<30 { _ = try await client.send(.get, "/v1/jobs", key: Harness.clientKey) }
            for _ in 0..<30 { _ = try await client.send(.get, "/v1/me", key: Harness.masterKey) }
            let refused = try await client.send(.get, "/v1/me", key: Harness.minerKey)
            #expect(refused.status == .tooManyRequests)
        }
    }

    @Test func errorsAfterAuthenticationCarryRateLimitHeaders() async throws {
        try await Harness.make(plan: "pro").test { client in
            let reply = try await client.send(.get, "/v1/api-keys/key_nope", key: Harness.masterKey)
            #expect(reply.status == .notFound)
            #expect(reply.header("X-RateLimit-Limit") == "600")
            #expect(reply.header("X-RateLimit-Remaining") == "599")
            #expect(reply.header("X-RateLimit-Reset") != nil)
        }
    }

    @Test func keyWithItsOwnLowerLimitIsHeldToIt() async throws {
        let harness = try await Harness.make(plan: "pro")
        try await harness.test { client in
            let limited = try await client.createKey(using: Harness.masterKey, extra: #", "rate_limit_per_minute": 3"#)
            let secret = try #require(limited.apiKey)
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            let refused = try await client.send(.get, "/v1/jobs", key: secret)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.header("X-RateLimit-Limit") == "3")
            #expect(refused.header("Retry-After") == "20")
            // The tenant budget was not charged for the refusal; other keys are unaffected.
            let other = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(other.status == .ok)
            #expect(other.header("X-RateLimit-Remaining") == String(600 - 5))
        }
    }

    @Test func planChangeTakesEffectOnTheNextRequest() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            for _ in 0..<60 { _ = try await client.send(.get, "/v1/jobs", key: Harness.clientKey) }
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .tooManyRequests)
            let patched = try await client.send(
                .patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"plan": "pro"}"#)
            // The operator key is in test-tenant too; with the free budget spent it is limited as well.
            #expect(patched.status == .tooManyRequests)
            harness.clock.advance(by: 2)
            let retried = try await client.send(
                .patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"plan": "pro"}"#)
            #expect(retried.status == .ok)
            #expect(retried.json["plan"] == "pro")
            #expect(retried.json["rate_limit_per_minute"] == 600)
            let next = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(next.status == .ok)
            #expect(next.header("X-RateLimit-Limit") == "600")
        }
    }

    @Test func customTenantLimitTakesEffectAndCanBeCleared() async throws {
        let harness = try await Harness.make(plan: "enterprise")
        try await harness.test { client in
            _ = try await client.createTenant("acme", plan: "free")
            let lifted = try await client.send(
                .patch, "/v1/tenants/acme", key: Harness.operatorKey, json: #"{"rate_limit_per_minute": 100000}"#)
            #expect(lifted.status == .ok)
            #expect(lifted.json["rate_limit_per_minute"] == 100000)
            #expect(lifted.json["custom_rate_limit_per_minute"] == 100000)
            let cleared = try await client.send(
                .patch, "/v1/tenants/acme", key: Harness.operatorKey, json: #"{"rate_limit_per_minute": null}"#)
            #expect(cleared.json["rate_limit_per_minute"] == 60)
            #expect(cleared.json["custom_rate_limit_per_minute"] == .null)
            let bad = try await client.send(
                .patch, "/v1/tenants/acme", key: Harness.operatorKey, json: #"{"plan": "platinum"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json["error"]?["details"]?["field"] == "plan")
        }
    }

    @Test func repeatedFailuresFromOneAddressAreThrottledButValidKeysStillWork() async throws {
        let harness = try await Harness.make(configure: { $0.authFailuresPerMinute = 5 })
        try await harness.test { client in
            // Warm the valid key so it is known in memory.
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.7").status == .ok)
            for attempt in 1...5 {
                let reply = try await client.send(.get, "/v1/me", key: "guess-\(attempt)", from: "203.0.113.7")
                #expect(reply.status == .unauthorized)
            }
            let throttled = try await client.send(.get, "/v1/me", key: "guess-6", from: "203.0.113.7")
            #expect(throttled.status == .tooManyRequests)
            #expect(throttled.errorCode == "RATE_LIMIT_EXCEEDED")
            #expect(Int(throttled.header("Retry-After") ?? "") ?? 0 >= 1)
            let forged = try await client.send(
                .get, "/v1/me", key: APIKeyFormat.generate(role: .client, using: SystemSecretSource()),
                from: "203.0.113.7")
            #expect(forged.status == .tooManyRequests)
            // Offices share addresses: the valid key from the same address still works.
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.7").status == .ok)
            // Still true once the cached entry is past its lifetime: a known key is refreshed from storage.
            harness.clock.advance(by: 31)
            for attempt in 1...5 { _ = try await client.send(.get, "/v1/me", key: "again-\(attempt)", from: "203.0.113.7") }
            #expect(try await client.send(.get, "/v1/me", key: "again-6", from: "203.0.113.7").status == .tooManyRequests)
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.7").status == .ok)
            // Other addresses are unaffected.
            #expect(try await client.send(.get, "/v1/me", key: "guess-7", from: "198.51.100.1").status == .unauthorized)
            // The budget refills with time.
            harness.clock.advance(by: 61)
            #expect(try await client.send(.get, "/v1/me", key: "guess-8", from: "203.0.113.7").status == .unauthorized)
        }
    }

    @Test func throttledGuessesAreTarpittedButValidKeysAreNot() async throws {
        let harness = try await Harness.make(configure: {
            $0.authFailuresPerMinute = 2
            $0.authTarpitMilliseconds = 8000
        })
        try await harness.test { client in
            _ = try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.9")
            for attempt in 1...2 { _ = try await client.send(.get, "/v1/me", key: "guess-\(attempt)", from: "203.0.113.9") }
            let start = ContinuousClock.now
            let throttled = try await client.send(.get, "/v1/me", key: "guess-3", from: "203.0.113.9")
            #expect(throttled.status == .tooManyRequests)
            #expect(ContinuousClock.now - start >= .milliseconds(7950))
            // The valid key is answered without the wait (half of it leaves room for a busy machine).
            let validStart = ContinuousClock.now
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "203.0.113.9").status == .ok)
            #expect(ContinuousClock.now - validStart < .milliseconds(4000))
        }
    }

    @Test func aWallClockSetBackAnHourDoesNotRefuseACallerWithinItsRate() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            // One request a second against 60 a minute: the caller never needs more than the rate.
            for _ in 0..<5 {
                #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok)
                harness.clock.advance(by: 1)
            }
            harness.clock.stepWallClock(by: -3600)
            for index in 0..<5 {
                let reply = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
                #expect(reply.status == .ok, "request \(index) after the clock was set back")
                #expect(reply.header("X-RateLimit-Remaining") == "59")
                // The reset is a Unix time one interval from now: on the wall clock as it now reads on
                // SQLite; on PostgreSQL on the database's clock, which this instance's step did not move.
                let wall = Int64(harness.clock.now().timeIntervalSince1970) + (harness.backend == .postgres ? 3600 : 0)
                #expect(reply.header("X-RateLimit-Reset") == String(wall + 1))
                harness.clock.advance(by: 1)
            }
        }
    }

    @Test func aWallClockSetForwardAnHourGrantsNoNewBurst() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            for _ in 0..<60 { #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok) }
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .tooManyRequests)
            harness.clock.stepWallClock(by: 3600)
            let refused = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.header("Retry-After") == "1")
            let wall = Int64(harness.clock.now().timeIntervalSince1970) - (harness.backend == .postgres ? 3600 : 0)
            #expect(refused.header("X-RateLimit-Reset") == String(wall + 60))
            // Time passing still refills it at the plan's rate, one request a second.
            harness.clock.advance(by: 1)
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok)
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .tooManyRequests)
        }
    }
}

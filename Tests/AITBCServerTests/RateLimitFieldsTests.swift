import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The IETF `RateLimit-Policy` and `RateLimit` fields (draft-ietf-httpapi-ratelimit-headers) beside
/// the `X-RateLimit-*` ones: the same budget, on every response after the charge, errors included.
@Suite struct RateLimitFieldsTests {
    /// The IETF fields of `reply` agree with its `X-RateLimit-*` fields at `now` (Unix seconds).
    static func expectAgreement(_ reply: Reply, now: Int64, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let limit = reply.header("X-RateLimit-Limit"), let remaining = reply.header("X-RateLimit-Remaining"),
            let reset = reply.header("X-RateLimit-Reset").flatMap({ Int64($0) })
        else {
            Issue.record("\(what): no X-RateLimit-* fields", sourceLocation: sourceLocation)
            return
        }
        #expect(reply.header("RateLimit-Policy") == "\"minute\";q=\(limit);w=60", "\(what)", sourceLocation: sourceLocation)
        #expect(reply.header("RateLimit") == "\"minute\";r=\(remaining);t=\(reset - now)", "\(what)", sourceLocation: sourceLocation)
    }

    @Test func theIETFFieldsDescribeTheSameBudgetOn200And404And403And429() async throws {
        let harness = try await Harness.make(plan: "free")
        let now = Int64(harness.clock.now().timeIntervalSince1970)
        try await harness.test { client in
            let first = try await client.send(.get, "/v1/me", key: Harness.clientKey)
            #expect(first.status == .ok)
            // 60 a minute: one request is one second of the budget.
            #expect(first.header("RateLimit-Policy") == #""minute";q=60;w=60"#)
            #expect(first.header("RateLimit") == #""minute";r=59;t=1"#)
            Self.expectAgreement(first, now: now, "200")
            let unrouted = try await client.send(.get, "/v1/no-such-route", key: Harness.clientKey)
            #expect(unrouted.status == .notFound)
            Self.expectAgreement(unrouted, now: now, "404 of an unrouted path")
            let forbidden = try await client.send(.get, "/v1/api-keys", key: Harness.clientKey)
            #expect(forbidden.status == .forbidden)
            Self.expectAgreement(forbidden, now: now, "403 of a scope")
            var last = forbidden
            while last.status != .tooManyRequests {
                last = try await client.send(.get, "/v1/me", key: Harness.clientKey)
            }
            #expect(last.header("RateLimit") == #""minute";r=0;t=60"#)
            Self.expectAgreement(last, now: now, "429")
            // Before authentication there is no budget, so no fields of either family.
            let anonymous = try await client.send(.get, "/v1/me", key: "aitbc_client_wrong")
            #expect(anonymous.status == .unauthorized)
            #expect(anonymous.header("RateLimit") == nil && anonymous.header("RateLimit-Policy") == nil)
        }
    }

    @Test func theFieldsCountDownWithTheClock() async throws {
        let harness = try await Harness.make(plan: "pro")
        try await harness.test { client in
            for step in 0..<3 {
                let reply = try await client.send(.get, "/v1/me", key: Harness.clientKey)
                Self.expectAgreement(reply, now: Int64(harness.clock.now().timeIntervalSince1970), "step \(step)")
                harness.clock.advance(by: 0.55)
            }
        }
    }

    @Test func eachPolicyIsOneMemberOfBothLists() {
        var policies = RateLimitPolicies()
        policies.add("minute", quota: 600, windowSeconds: 60, remaining: 599, resetSeconds: 1)
        policies.add("day", quota: 10_000, windowSeconds: 86_400, remaining: 9_000, resetSeconds: 3_600)
        #expect(policies.policy == #""minute";q=600;w=60, "day";q=10000;w=86400"#)
        #expect(policies.state == #""minute";r=599;t=1, "day";r=9000;t=3600"#)
        var clamped = RateLimitPolicies()
        clamped.add("minute", quota: 60, windowSeconds: 60, remaining: -1, resetSeconds: -5)
        #expect(clamped.state == #""minute";r=0;t=0"#)
    }
}

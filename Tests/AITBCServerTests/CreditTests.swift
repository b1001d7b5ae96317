import AITBCDomain
import AITBCTestSupport
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Keys that spend credits: at the edge, refills on the injected clock, job cost, top-ups and the
/// delegation rule, and refusals that spend nothing.
@Suite struct CreditTests {
    /// 2026-11-18T23:59:00Z.
    static let lateEvening = Date(timeIntervalSince1970: 1_795_046_340)
    static let midnight: Int64 = 1_795_046_400

    static func harness(plan: String = "enterprise", jobCost: Int = 1, plans: String? = nil) async throws -> Harness {
        let harness = try await Harness.make(plan: plan) { settings in
            settings.jobCreditCost = jobCost
            if let plans { settings.plans = PlanTable(parsing: plans)! }
        }
        harness.clock.set(lateEvening)
        return harness
    }

    @Test func creditsAdmitTheLastOneThenRefuseWithoutARefill() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let key = try await client.createKey(using: Harness.masterKey, extra: #", "credits": {"remaining": 3}"#)
            #expect(key.credits == CreditsView(remaining: 3, refill: nil, nextRefillAt: nil))
            let secret = try key.secret()
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            let refused = try await client.send(.get, "/v1/jobs", key: secret)
            #expect(refused.status == .tooManyRequests)
            #expect(refused.errorCode == "CREDITS_EXHAUSTED")
            #expect(refused.header("Retry-After") == String(SpendingMeters.noRefillRetryAfter))
            let shown = try await client.send(.get, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey)
            #expect(try shown.decode(APIKeyView.self).credits?.remaining == 0)
            // Other keys of the tenant spend no credits.
            #expect(try await client.send(.get, "/v1/jobs", key: Harness.clientKey).status == .ok)
        }
    }

    @Test func meShowsAMeteredKeysAllowListCreditsAndQuotaAndTheirNumbersMoveWithEachRequest() async throws {
        // A daily quota under 16: one-unit leases on PostgreSQL, so each request moves the remainder by one.
        let harness = try await Self.harness(plans: "free=60,pro=600,enterprise=6000/day:15")
        // Over a socket from 127.0.0.1, which the list admits.
        try await harness.testLive { client in
            let key = try await client.createKey(
                using: Harness.masterKey,
                extra: #", "credits": {"remaining": 10}, "allowed_ips": ["127.0.0.1/32", "::1/128"]"#)
            let secret = try key.secret()
            let first = try await client.send(.get, "/v1/me", key: secret)
            #expect(first.status == .ok)
            #expect(first.json["allowed_ips"] == .array([.string("127.0.0.1/32"), .string("::1/128")]))
            #expect(first.json["credits"]?["remaining"] == .int(9))
            let quotaLeft = try #require(first.json["quota"]?["remaining"]?.doubleValue.map { Int($0) })
            let second = try await client.send(.get, "/v1/me", key: secret)
            #expect(second.json["credits"]?["remaining"] == .int(8))
            #expect(second.json["quota"]?["remaining"] == .int(quotaLeft - 1))
            #expect(second.json["allowed_ips"] == first.json["allowed_ips"])
            #expect(second.header("X-Quota-Remaining") == String(quotaLeft - 1))
        }
    }

    /// A request refused in the middleware after its charge (an `X-Tenant-ID` the key may not name)
    /// spends no credit and no quota, and its refusal reports the quota as it stands.
    @Test func aTenantMismatchSpendsNoCreditsAndNoQuota() async throws {
        // A quota under 16: on PostgreSQL its slices are then one unit each, so what an answer shows is
        // exact (with larger ones a slice handed back meanwhile may show as used for a moment).
        let harness = try await Self.harness(plans: "free=60,pro=600,enterprise=6000/day:15")
        try await harness.test { client in
            let key = try await client.createKey(using: Harness.masterKey, extra: #", "credits": {"remaining": 5}"#)
            let secret = try key.secret()
            let first = try await client.send(.get, "/v1/me", key: secret)
            #expect(first.json["credits"]?["remaining"] == .int(4))
            let quotaLeft = try #require(first.json["quota"]?["remaining"]?.doubleValue.map { Int($0) })
            for _ in 0..<3 {
                let refused = try await client.send(.get, "/v1/jobs", key: secret, headers: ["X-Tenant-ID": "someone-else"])
                #expect(refused.status == .forbidden)
                #expect(refused.errorCode == "TENANT_MISMATCH")
                #expect(refused.header("X-Quota-Remaining") == String(quotaLeft))
            }
            let after = try await client.send(.get, "/v1/me", key: secret)
            #expect(after.json["credits"]?["remaining"] == .int(3))
            #expect(after.json["quota"]?["remaining"] == .int(quotaLeft - 1))
        }
    }

    @Test func dailyRefillSetsTheBalanceAtMidnightUTCWithoutAccumulating() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let key = try await client.createKey(
                using: Harness.masterKey,
                extra: #", "credits": {"remaining": 2, "refill": {"amount": 3, "interval": "daily"}}"#)
            let secret = try key.secret()
            #expect(key.credits?.nextRefillAt == Date(timeIntervalSince1970: TimeInterval(Self.midnight)))
            let me = try await client.send(.get, "/v1/me", key: secret)
            #expect(me.json["credits"]?["remaining"] == .int(1))
            #expect(me.json["credits"]?["refill"]?["interval"]?.stringValue == "daily")
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            let refused = try await client.send(.get, "/v1/jobs", key: secret)
            #expect(refused.errorCode == "CREDITS_EXHAUSTED")
            #expect(refused.header("Retry-After") == "60")

            harness.clock.set(Date(timeIntervalSince1970: TimeInterval(Self.midnight + 5)))
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")
            // Two days on, one refill's worth: unspent days do not add up.
            harness.clock.set(Date(timeIntervalSince1970: TimeInterval(Self.midnight + 3 * 86_400)))
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")
        }
    }

    @Test func monthlyRefillComesOnTheFirstOfJanuary() async throws {
        let harness = try await Self.harness()
        harness.clock.set(Date(timeIntervalSince1970: 1_798_761_570))  // 2026-12-31T23:59:30Z
        try await harness.test { client in
            let key = try await client.createKey(
                using: Harness.masterKey,
                extra: #", "credits": {"remaining": 1, "refill": {"amount": 2, "interval": "monthly"}}"#)
            let secret = try key.secret()
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            let refused = try await client.send(.get, "/v1/jobs", key: secret)
            #expect(refused.header("Retry-After") == "30")
            // The refill's time as every timestamp on the wire, the same field as the key's `credits` shows.
            #expect(refused.json["error"]?["details"]?["next_refill_at"] == "2027-01-01T00:00:00Z")
            harness.clock.set(Date(timeIntervalSince1970: 1_798_761_600))
            for _ in 0..<2 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")
        }
    }

    @Test func jobSubmissionSpendsJobCostAndAReplayOrARefusalSpendsOne() async throws {
        let harness = try await Self.harness(jobCost: 3)
        try await harness.test { client in
            let key = try await client.createKey(using: Harness.masterKey, extra: #", "credits": {"remaining": 9}"#)
            let secret = try key.secret()
            let job = #"{"payload": {"task": "x"}}"#
            let created = try await client.send(.post, "/v1/jobs", key: secret, json: job, headers: ["Idempotency-Key": "a"])
            #expect(created.status == .created)
            let replay = try await client.send(.post, "/v1/jobs", key: secret, json: job, headers: ["Idempotency-Key": "a"])
            #expect(replay.status == .ok)
            let invalid = try await client.send(.post, "/v1/jobs", key: secret, json: #"{"payload": 1, "ttl_seconds": -1}"#)
            #expect(invalid.status == .badRequest)
            // 9 - 3 - 1 - 1 = 4: one more job (3) leaves 1, too little for another job.
            #expect(try await client.send(.post, "/v1/jobs", key: secret, json: job).status == .created)
            let refused = try await client.send(.post, "/v1/jobs", key: secret, json: job)
            #expect(refused.errorCode == "CREDITS_EXHAUSTED")
            #expect(refused.json["error"]?["details"]?["remaining"] == .int(1))
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")
        }
    }

    @Test func rateLimitedRequestSpendsNoCreditsAndQuotaRefusalSpendsNone() async throws {
        let harness = try await Self.harness(plans: "free=60,pro=600,enterprise=6000/day:4")
        harness.clock.set(Self.lateEvening.addingTimeInterval(-3600))
        try await harness.test { client in
            let key = try await client.createKey(
                using: Harness.masterKey, extra: #", "rate_limit_per_minute": 1, "credits": {"remaining": 10}"#)
            let secret = try key.secret()
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "RATE_LIMIT_EXCEEDED") }
            // create (1) + admitted (1) + this (1) of the day's 4.
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey).status == .ok)
            harness.clock.advance(by: 60)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            harness.clock.advance(by: 60)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "QUOTA_EXCEEDED")
            let shown = try await client.send(.get, "/v1/api-keys/\(key.keyID)", key: Harness.operatorKey)
            #expect(shown.status == .tooManyRequests)
            harness.clock.set(Date(timeIntervalSince1970: TimeInterval(Self.midnight + 120)))
            let after = try await client.send(.get, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey)
            // Ten, less the two admitted: neither the rate refusals nor the quota refusal spent any.
            #expect(try after.decode(APIKeyView.self).credits?.remaining == 8)
        }
    }

    @Test func masterTopsUpAuditedOthersCannot() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let key = try await client.createKey(
                using: Harness.masterKey,
                extra: #", "credits": {"remaining": 1, "refill": {"amount": 5, "interval": "monthly"}}"#)
            let secret = try key.secret()
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")

            let byClient = try await client.send(
                .patch, "/v1/api-keys/\(key.keyID)", key: Harness.clientKey, json: #"{"credits": {"remaining": 100}}"#)
            #expect(byClient.status == .forbidden)
            let other = try await client.createTenant("other")
            let otherMaster = try #require(other.masterKey?.apiKey)
            let byOther = try await client.send(
                .patch, "/v1/api-keys/\(key.keyID)", key: otherMaster, json: #"{"credits": {"remaining": 100}}"#)
            #expect(byOther.status == .notFound)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")

            let topped = try await client.send(
                .patch, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey,
                json: #"{"credits": {"remaining": 2, "refill": null}}"#)
            #expect(topped.status == .ok)
            #expect(try topped.decode(APIKeyView.self).credits == CreditsView(remaining: 2, refill: nil, nextRefillAt: nil))
            for _ in 0..<2 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "CREDITS_EXHAUSTED")

            let events = try await client.send(.get, "/v1/audit-events", key: Harness.masterKey)
            let update = events.json["items"]?.arrayValue?.first { $0["type"]?.stringValue == "api_key.updated" }
            #expect(update?["data"]?["credits"]?["from"]?["remaining"] == .int(0))
            #expect(update?["data"]?["credits"]?["from"]?["refill"]?["amount"] == .int(5))
            #expect(update?["data"]?["credits"]?["to"]?["remaining"] == .int(2))
            #expect(update?["data"]?["credits"]?["to"]?["refill"] == .null)
        }
    }

    @Test func keyWithCreditsCannotMintUnmeteredOrRicherKeys() async throws {
        let harness = try await Self.harness()
        try await harness.test { client in
            let master = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "credits": {"remaining": 10}"#)
            let secret = try master.secret()
            let unmetered = try await client.send(
                .post, "/v1/api-keys", key: secret, json: #"{"name": "free ride", "role": "client"}"#)
            #expect(unmetered.status == .forbidden)
            #expect(unmetered.json["error"]?["details"]?["missing"] == .array([.string("credits")]))
            let richer = try await client.send(
                .post, "/v1/api-keys", key: secret, json: #"{"name": "r", "role": "client", "credits": {"remaining": 1000}}"#)
            #expect(richer.status == .forbidden)
            let refilled = try await client.send(
                .post, "/v1/api-keys", key: secret,
                json: #"{"name": "r", "role": "client", "credits": {"remaining": 1, "refill": {"amount": 1, "interval": "daily"}}}"#)
            #expect(refilled.status == .forbidden)
            let modest = try await client.send(
                .post, "/v1/api-keys", key: secret, json: #"{"name": "m", "role": "client", "credits": {"remaining": 3}}"#)
            #expect(modest.status == .created)
            let view = try modest.decode(APIKeyView.self)
            let lift = try await client.send(
                .patch, "/v1/api-keys/\(view.keyID)", key: secret, json: #"{"credits": null}"#)
            #expect(lift.status == .forbidden)
            let invalid = try await client.send(
                .post, "/v1/api-keys", key: Harness.masterKey,
                json: #"{"name": "m", "role": "client", "credits": {"remaining": 3, "refill": {"amount": 3, "interval": "hourly"}}}"#)
            #expect(invalid.status == .badRequest)
            #expect(invalid.json["error"]?["details"]?["field"]?.stringValue == "credits.refill.interval")
        }
    }
}

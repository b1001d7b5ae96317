import Foundation
import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /bench/me`, served only with `AITBC_BENCHMARK_ROUTES`: the bytes and headers of the development
/// client key's `GET /v1/me` under the benchmark's lifted limit, without a key.
///
/// The auth-overhead benchmark compares `/v1/me` with this route, so that the two differ only in the
/// work authentication does (key check, rate-limit decision, usage counting, the JSON's numbers), not
/// in what goes over the wire: the body has the same length and the response the same header names.
///
/// `GET /bench/me-limited` does the same for the key `bench/run.sh` (scenario d) gives daily and
/// monthly tenant quotas, credits with a monthly refill and an IP allow-list: its body shows them and
/// its headers carry the quota's `X-Quota-*` fields and a two-policy `RateLimit`, so that the limited
/// key's `/v1/me` against it is the same measurement for that key.
struct BenchmarkController {
    /// The limit `bench/run.sh` lifts `test-tenant` to, and a remaining count of the same width.
    static let rateLimit = RateLimitStateView(limit: 100_000_000, remaining: 99_999_999, reset: 1_795_000_060)

    /// The scenario's quotas and credits (10¹²), and remaining counts of the width they keep while it runs.
    static let limitedQuota = QuotaState(
        period: .day, limit: 1_000_000_000_000, remaining: 999_999_999_999, resetUnixSeconds: 1_795_046_400,
        observedAtUnixSeconds: 1_795_045_000)

    let body: ByteBuffer
    let limitedBody: ByteBuffer

    /// The answers for the development client key of a `test-tenant` on `plan`, and for the scenario's limited key.
    init(plan: String) {
        let role = Role.client
        let view = MeView(
            keyID: StoreBootstrap.developmentKeyID(role), name: StoreBootstrap.developmentKeyName(role),
            role: role.rawValue, scopes: role.sortedPermissionNames, tenantID: StoreBootstrap.developmentTenantID,
            plan: plan, expiresAt: nil, rateLimit: Self.rateLimit)
        body = view.jsonBuffer()
        let limited = MeView(
            keyID: "key_" + String(repeating: "0", count: 20), name: "limited", role: role.rawValue,
            scopes: role.sortedPermissionNames, tenantID: "metered", plan: "enterprise", expiresAt: nil,
            rateLimit: Self.rateLimit, quota: Self.limitedQuota.view,
            credits: CreditsView(
                remaining: 999_999_999_999, refill: CreditRefillBody(amount: 1_000_000_000_000, interval: "monthly"),
                nextRefillAt: Date(timeIntervalSince1970: 1_796_083_200)),
            allowedIPs: ["127.0.0.0/8", "::1/128"])
        limitedBody = limited.jsonBuffer()
    }

    /// The decision behind ``rateLimit``, whose headers the middleware writes.
    static let decision = {
        var decision = RateDecision(
            admitted: true, limit: rateLimit.limit, remaining: rateLimit.remaining,
            resetUnixSeconds: Int64(rateLimit.reset), retryAfterSeconds: 0)
        // One second before the reset, as a budget just charged is (`RateLimit: …;t=1`).
        decision.decidedAtUnixSeconds = Int64(rateLimit.reset) - 1
        return decision
    }()

    func addRoutes(to router: Router<CoordinatorRequestContext>) {
        router.get("/bench/me") { _, _ in
            // Built as /v1/me's answer is: the controller's response, then the middleware's headers.
            var response = Response(status: .ok, headers: IdentityController.contentType, body: ResponseBody(byteBuffer: body))
            response.headers.appendLimits(Self.decision)
            return response
        }
        router.get("/bench/me-limited") { _, _ in
            var response = Response(
                status: .ok, headers: IdentityController.contentType, body: ResponseBody(byteBuffer: limitedBody))
            response.headers.appendLimits(Self.decision, quota: Self.limitedQuota)
            return response
        }
    }
}

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
struct BenchmarkController {
    /// The limit `bench/run.sh` lifts `test-tenant` to, and a remaining count of the same width.
    static let rateLimit = RateLimitStateView(limit: 100_000_000, remaining: 99_999_999, reset: 1_795_000_060)

    let body: ByteBuffer

    /// The answer for the development client key of a `test-tenant` on `plan`.
    init(plan: String) {
        let role = Role.client
        let view = MeView(
            keyID: StoreBootstrap.developmentKeyID(role), name: StoreBootstrap.developmentKeyName(role),
            role: role.rawValue, scopes: role.sortedPermissionNames, tenantID: StoreBootstrap.developmentTenantID,
            plan: plan, expiresAt: nil, rateLimit: Self.rateLimit)
        body = view.jsonBuffer()
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
    }
}

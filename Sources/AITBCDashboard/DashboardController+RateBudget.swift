import AITBCDomain
import HTTPTypes
import Hummingbird

/// The plan's rate limit in the dashboard: a signed-in account's actions are charged to its tenant's
/// budget exactly as the API's calls are, so the dashboard is no way around the plan.
extension DashboardController {
    /// Charges one request of `signedIn` to its tenant's budget: nil when admitted, else the page that
    /// says so (429 with `Retry-After` and the rate-limit headers an API call would get).
    func refusedOverBudget(_ signedIn: SignedIn) async throws -> Response? {
        let decision = try await budgets.charge(signedIn.principal)
        guard !decision.admitted else { return nil }
        let retry = max(1, decision.retryAfterSeconds)
        let headers: HTTPFields = [
            .retryAfter: String(retry),
            HTTPField.Name("X-RateLimit-Limit")!: String(decision.limit),
            HTTPField.Name("X-RateLimit-Remaining")!: String(decision.remaining),
            HTTPField.Name("X-RateLimit-Reset")!: String(decision.resetUnixSeconds),
        ]
        let plan = signedIn.principal.tenant.plan
        return pages.message(
            heading: "Over your plan's rate limit",
            text: "Plan \(plan) allows \(decision.limit) requests per minute, shared by this dashboard and every "
                + "API key of the tenant, and they are used up. Nothing was done. Try again in \(retry) "
                + (retry == 1 ? "second." : "seconds."),
            link: ("/dashboard/api-keys", "Back to API keys"), status: .tooManyRequests, signedIn: signedIn,
            headers: headers)
    }
}

import Foundation
import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Guards the routes of a group that needs a key (`/v1`, `/metrics`): reads the credential, has the
/// domain authenticate it, refuses an address outside the key's allow-list (403 `IP_NOT_ALLOWED`,
/// from memory, before any budget is charged), charges the request to its budgets
/// (``RequestBudgets``) and applies `X-Tenant-ID`, calls the route, and puts the budget's
/// `X-RateLimit-*`, `RateLimit-Policy` and `RateLimit` headers on whatever follows the charge,
/// errors included (they travel with the thrown error).
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext

    let authenticator: KeyAuthenticator
    let budgets: RequestBudgets
    let allowQueryKeys: Bool
    /// Which peers' `X-Forwarded-For` is believed.
    let proxies: TrustedProxies
    let tarpit: Tarpit
    let metrics: ServerMetrics
    /// Credits a job submission costs (`AITBC_JOB_CREDIT_COST`); any other request costs one.
    var jobCost = 1
    /// Told of each refusal for a rate limit (from memory: it records a webhook notice at most once a minute).
    var onRateLimited: @Sendable (Principal, RateDecision) -> Void = { _, _ in }

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let tenantHeader = HTTPField.Name("X-Tenant-ID")!
    /// The route whose `DELETE` revokes a key: a revocation may go beyond a spent budget.
    static let revocationRoute = "/v1/api-keys/{key_id}"
    /// The route whose `POST` submits a job: it costs ``jobCost`` credits when it creates one.
    static let jobSubmissionRoute = "/v1/jobs"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let client = request.clientAddress(peer: context.peer, proxies: proxies)
        context.clientAddress = client?.description
        let principal = try await authenticate(request, from: client, text: context.clientAddress)
        context.requestLog?.keyID = principal.key.id
        if let allowed = principal.key.allowedIPs, !allowed.admits(client) {
            // Before the budgets: a key used from elsewhere spends nothing of its tenant's.
            budgets.countRefused(principal, from: context.clientAddress)
            context.requestLog?.refusal = (code: ErrorCode.ipNotAllowed.rawValue, client: context.clientAddress)
            throw CoordinatorError.ipNotAllowed(context.clientAddress)
        }
        let revocation = request.method == .delete && context.endpointPath == Self.revocationRoute
        let cost = jobCost != 1 && request.method == .post && context.endpointPath == Self.jobSubmissionRoute ? jobCost : 1
        let admission: RequestBudgets.Admission
        do {
            admission = try await budgets.admit(principal, revocation: revocation, cost: cost, from: context.clientAddress)
        } catch let error as CoordinatorError where error.budget != nil {
            metrics.countRateLimited()
            if error.code == .rateLimitExceeded, let decision = error.budget { onRateLimited(principal, decision) }
            throw error
        }
        context.quota = admission.charge?.quota
        context.creditsRemaining = admission.charge?.creditsRemaining
        var refusedBeforeTheRoute = true
        do {
            context.principal = try await authenticator.principal(principal, actingIn: request.headers[Self.tenantHeader])
            refusedBeforeTheRoute = false
            context.rateDecision = admission.decision
            var response = try await next(request, context)
            // Only a submission that created a job costs more than a request (not a refusal, not a replay).
            if cost != 1, response.status != .created { budgets.refundCredits(admission, cost - 1) }
            budgets.finish(admission, failed: response.status.code >= 400)
            response.headers.appendLimits(admission.decision, quota: admission.charge?.quota)
            return response
        } catch {
            var failure = CoordinatorError(translating: error, logger: context.logger)
            failure.budget = admission.decision
            failure.quota = admission.charge?.quota
            if refusedBeforeTheRoute {
                // 403 `TENANT_MISMATCH` or 404 `TENANT_NOT_FOUND`: no quota or credit is spent on it.
                budgets.refundCharge(admission)
                failure.quota = failure.quota.map(RequestBudgets.refunded)
            } else if cost != 1 {
                budgets.refundCredits(admission, cost - 1)
            }
            budgets.finish(admission, failed: true)
            throw failure
        }
    }

    /// Who presents the request's key from `client` (written as `text`); failures are counted for `/metrics`.
    func authenticate(_ request: Request, from client: IPAddress?, text: String?) async throws -> Principal {
        do {
            let presented = try credential(of: request)
            // Failures count per throttle key: an IPv6 client's whole /64 (an IPv4 address is its own key:
            // its text is not built twice on every request).
            let throttleKey = client?.ipv4 != nil ? text : client?.throttleKey
            let principal = try await authenticator.authenticate(presented, from: throttleKey)
            metrics.countAuthenticated()
            return principal
        } catch let error as CoordinatorError {
            metrics.countAuthenticationFailure(error.code.rawValue)
            if case .rateLimited = error.kind {
                // Authentication refuses with 429 only an address over its failure budget. It waits before
                // it hears no: a flood then costs the server next to nothing, while valid keys from the
                // same address (served above) are never delayed.
                await tarpit.hold()
            }
            throw error
        }
    }

    /// The one key the request carries; two different ones are 400, none is 401.
    func credential(of request: Request) throws -> String {
        var found: String?
        func offer(_ value: String) throws {
            if let found, found != value { throw CoordinatorError.ambiguousCredentials }
            found = value
        }
        for field in request.headers where field.name == Self.apiKeyHeader {
            try offer(Self.trimmed(field.value))
        }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                try offer(Self.trimmed(String(parts[1])))
            }
        }
        if request.uri.query != nil, let queryKey = request.uri.queryParameters["api_key"] {
            guard allowQueryKeys else {
                throw CoordinatorError.invalidField(
                    "api_key", "API keys in the query string are disabled on this server; send the X-API-Key header")
            }
            try offer(String(queryKey))
        }
        guard let found, !found.isEmpty else { throw CoordinatorError.missingKey }
        return found
    }

    /// `value` without surrounding spaces and tabs (Foundation's trimming is far too slow for every request).
    static func trimmed(_ value: String) -> String {
        let utf8 = value.utf8
        guard let first = utf8.first, let last = utf8.last else { return "" }
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x09 }
        guard isSpace(first) || isSpace(last) else { return value }
        guard let start = utf8.firstIndex(where: { !isSpace($0) }),
            let end = utf8.lastIndex(where: { !isSpace($0) })
        else { return "" }
        return String(value[start...end])
    }
}

/// Delays answers to addresses over their failure budget, a bounded number at a time.
final class Tarpit: Sendable {
    let delay: Duration
    let capacity: Int
    private let held = Mutex(0)

    init(delay: Duration, capacity: Int = 512) {
        self.delay = delay
        self.capacity = capacity
    }

    /// Waits `delay` unless `capacity` requests already wait (then answers at once, so memory stays bounded).
    func hold() async {
        guard delay > .zero else { return }
        let admitted = held.withLock { count -> Bool in
            guard count < capacity else { return false }
            count += 1
            return true
        }
        guard admitted else { return }
        try? await Task.sleep(for: delay)
        held.withLock { $0 -= 1 }
    }
}

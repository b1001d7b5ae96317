import Foundation
import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import NIOCore
import Synchronization

/// Guards every `/v1` path: reads the credential, authenticates it, applies `X-Tenant-ID`,
/// takes the rate-limit decision, and puts the rate-limit headers on every response that
/// follows authentication, errors included. Counts usage for the key.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext

    let authenticator: KeyAuthenticator
    let limiter: RateLimiter
    /// With several instances on PostgreSQL: the shared authority, and its refusals kept in memory.
    let sharedLimit: (any SharedRateLimit)?
    let refusals: RateRefusals
    let usage: UsageRecorder
    let time: any TimeSource
    let allowQueryKeys: Bool
    /// Which peers' `X-Forwarded-For` is believed.
    let proxies: TrustedProxies
    let errors: ErrorMiddleware
    let tarpit: Tarpit
    let metrics: ServerMetrics

    static let apiKeyHeader = HTTPField.Name("X-API-Key")!
    static let tenantHeader = HTTPField.Name("X-Tenant-ID")!
    static let limitHeader = HTTPField.Name("X-RateLimit-Limit")!
    static let remainingHeader = HTTPField.Name("X-RateLimit-Remaining")!
    static let resetHeader = HTTPField.Name("X-RateLimit-Reset")!

    /// The shared limiter's decision, or a refusal still in force from memory (no round trip). A store
    /// that cannot be asked means 503: admitting without it could exceed the budget.
    func sharedDecision(
        _ shared: any SharedRateLimit, _ budgets: ((BudgetKey, Int), (BudgetKey, Int)?), now: RateInstant
    ) async throws -> RateDecision {
        do {
            return try await refusals.decide(budgets.0, budgets.1, by: shared, now: now)
        } catch let error as CoordinatorError {
            throw error
        } catch {
            throw CoordinatorError.storageUnavailable
        }
    }

    /// The rate-limit decision for one request charged to `budgets` at `now`: the
    /// shared authority when instances share a database, else this instance's limiter.
    func decide(_ budgets: ((BudgetKey, Int), (BudgetKey, Int)?), now: RateInstant) async throws -> RateDecision {
        if let sharedLimit { return try await sharedDecision(sharedLimit, budgets, now: now) }
        return limiter.admit(budgets.0, budgets.1, now: now)
    }

    /// Charges a request of `principal` made outside `/v1` (a dashboard action) to the same budgets.
    func decide(for principal: Principal) async throws -> RateDecision {
        try await decide(principal.budgets, now: time.rateInstant())
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/v1/") || path == "/v1" || path == "/metrics" else { return try await next(request, context) }
        var context = context
        let client = request.clientAddress(peer: context.peer, proxies: proxies)
        let address = client?.description
        context.clientAddress = address
        var principal: Principal
        do {
            let presented = try credential(of: request)
            // Failures count per throttle key: an IPv6 client's whole /64 (an IPv4 address is its own key:
            // its text is not built twice on every request).
            let throttleKey = client?.ipv4 != nil ? address : client?.throttleKey
            principal = try await authenticator.authenticate(presented, from: throttleKey)
            metrics.countAuthenticated()
        } catch let error as CoordinatorError {
            metrics.countAuthenticationFailure(error.code)
            if case .rateLimited = error.kind {
                // Authentication refuses with 429 only an address over its failure budget. It waits before
                // it hears no: a flood then costs the server next to nothing, while valid keys from the
                // same address (served above) are never delayed.
                await tarpit.hold()
            }
            throw error
        }
        context.requestLog?.keyID = principal.key.id
        let now = time.now()
        let instant = time.rateInstant(wall: now)
        let budgets = principal.budgets
        let decision = try await decide(budgets, now: instant)
        guard decision.admitted || mayRevokeBeyondTheBudget(request, principal, now: instant) else {
            metrics.countRateLimited()
            usage.record(keyID: principal.key.id, outcome: .rateLimited, at: now, from: context.clientAddress)
            var response = ErrorResponses.response(
                for: CoordinatorError(
                    .rateLimited(retryAfterSeconds: decision.retryAfterSeconds), code: "RATE_LIMIT_EXCEEDED",
                    message: "Rate limit of \(decision.limit) requests per minute exceeded; retry in \(decision.retryAfterSeconds) s",
                    details: ["limit": .int(decision.limit), "retry_after_seconds": .int(decision.retryAfterSeconds)]))
            Self.addHeaders(decision, to: &response)
            return response
        }
        var response: Response
        do {
            if let requested = request.headers[Self.tenantHeader] {
                if principal.isOperator {
                    guard try await authenticator.tenant(id: requested) != nil else {
                        throw CoordinatorError.notFound("TENANT_NOT_FOUND", "X-Tenant-ID names no tenant")
                    }
                    principal.actingTenantID = requested
                } else if requested != principal.key.tenantID {
                    throw CoordinatorError.tenantMismatch
                }
            }
            context.principal = principal
            context.rateDecision = decision
            response = try await next(request, context)
        } catch {
            response = errors.response(for: error, request: request, context: context)
        }
        let failed = response.status.code >= 400
        usage.record(keyID: principal.key.id, outcome: failed ? .error : .admitted, at: now, from: context.clientAddress)
        Self.addHeaders(decision, to: &response)
        return response
    }

    /// Revocations per minute a key may make once its tenant's budget is spent.
    static let revocationsBeyondTheBudget = 30

    /// Whether a refused request is a revocation that goes through anyway: a key that manages keys
    /// may revoke up to ``revocationsBeyondTheBudget`` a minute (counted by this instance) whatever
    /// the tenant's budget, since a leaked key flooding the budget must not protect itself.
    func mayRevokeBeyondTheBudget(_ request: Request, _ principal: Principal, now: RateInstant) -> Bool {
        guard request.method == .delete, request.uri.path.hasPrefix("/v1/api-keys/"),
            principal.permissions.contains(.keysWrite)
        else { return false }
        return limiter.admit((.revocations(principal.key.id), Self.revocationsBeyondTheBudget), now: now).admitted
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

    static func addHeaders(_ decision: RateDecision, to response: inout Response) {
        response.headers.append(HTTPField(name: limitHeader, value: String(decision.limit)))
        response.headers.append(HTTPField(name: remainingHeader, value: String(decision.remaining)))
        response.headers.append(HTTPField(name: resetHeader, value: String(decision.resetUnixSeconds)))
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

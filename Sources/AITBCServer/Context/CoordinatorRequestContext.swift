import AITBCDomain
import HTTPTypes
import Hummingbird
import NIOCore

/// The context of every request: the client address and, once authenticated, who is calling.
public struct CoordinatorRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on (long-polls watch it for the client leaving).
    public let channel: any Channel
    /// The peer of the connection, read when the request arrives (a closed channel no longer knows
    /// it); turned into text only on routes that need it.
    public let peer: SocketAddress?
    /// The client address as text (the peer's, or behind a trusted proxy the rightmost untrusted
    /// `X-Forwarded-For` entry), set by ``APIKeyMiddleware``.
    public var clientAddress: String?
    /// Set by ``APIKeyMiddleware`` for `/v1` routes.
    public var principal: Principal?
    /// The rate-limit decision taken for this request.
    public var rateDecision: RateDecision?
    /// The tightest quota's state after this request, when a quota applies.
    public var quota: QuotaState?
    /// The key's credit balance after this request, when it spends credits and was charged.
    public var creditsRemaining: Int?
    /// Set while request logging is on, for the key id.
    var requestLog: RequestLogEntry?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.peer = source.channel.remoteAddress
    }

    /// Room for a 1 MiB inline result plus its envelope; the services check the 1 MiB limits themselves.
    public var maxUploadSize: Int { 2 << 20 }
}

/// The context of `/v1` routes: the caller is known, so handlers never deal with "maybe authenticated".
public struct AuthenticatedRequestContext: ChildRequestContext {
    public typealias ParentContext = CoordinatorRequestContext
    public var coreContext: CoreRequestContextStorage
    public let principal: Principal
    public let rateDecision: RateDecision
    /// The tightest quota's state after this request, when a quota applies (`GET /v1/me`).
    public let quota: QuotaState?
    /// The key's credit balance after this request, when it spends credits and was charged (`GET /v1/me`).
    public let creditsRemaining: Int?
    /// The connection the request came on.
    public let channel: any Channel

    public init(context: CoordinatorRequestContext) throws {
        guard let principal = context.principal, let decision = context.rateDecision else {
            throw CoordinatorError.missingKey
        }
        self.coreContext = context.coreContext
        self.principal = principal
        self.rateDecision = decision
        self.quota = context.quota
        self.creditsRemaining = context.creditsRemaining
        self.channel = context.channel
    }

    /// Room for a 1 MiB inline result plus its envelope; the services check the 1 MiB limits themselves.
    public var maxUploadSize: Int { 2 << 20 }
}

import AITBCDashboard
import AITBCDomain
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import Logging
import ServiceLifecycle

/// Builds the coordinator the settings describe, ready to run: opens the storage they name (its
/// schema created or migrated), wires the services, and returns the application with its
/// background services and its start-up work (the development keys, the first operator key of an
/// empty store, the job queue loaded from storage), which runs once the storage services run and
/// before the server listens. `announce` receives a newly created operator key (to print once).
/// Failures say which part could not start (``StartupFailure``).
public func buildApplication(
    settings: CoordinatorSettings, time: any TimeSource = SystemTimeSource(),
    secrets: any SecretSource = SystemSecretSource(), logger: Logger,
    announce: @escaping @Sendable (String) -> Void,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) async throws -> (application: some ApplicationProtocol, coordinator: Coordinator) {
    let coordinator: Coordinator
    do {
        coordinator = try await Coordinator.open(settings: settings, time: time, secrets: secrets, logger: logger)
    } catch {
        throw StartupFailure.storage(error)
    }
    var application: Application<RouterResponder<CoordinatorRequestContext>>
    do {
        application = try makeApplication(
            coordinator: coordinator, settings: settings, logger: logger, onServerRunning: onServerRunning)
    } catch {
        try? await coordinator.store.close()
        throw StartupFailure.tls(error)
    }
    application.beforeServerStarts {
        try await coordinator.prepare(settings: settings, announce: announce)
    }
    return (application, coordinator)
}

/// What kept a coordinator from starting.
public enum StartupFailure: Error, CustomStringConvertible {
    /// The storage could not be opened or migrated.
    case storage(any Error)
    /// The TLS certificate or key could not be used.
    case tls(any Error)

    public var description: String {
        switch self {
        case .storage(let error): "could not open storage: \(error)"
        case .tls(let error): "cannot use the TLS certificate or key: \(error)"
        }
    }
}

/// Builds the HTTP application over a `coordinator` that is already prepared (``Coordinator/start``),
/// with its background services: what the tests call. With a certificate and key in the settings
/// it serves HTTPS only, TLS 1.2 or later. Connections are held to the settings' read, idle and
/// TLS-handshake timeouts and to the cap on open connections. `onServerRunning` is called once the
/// server listens.
public func buildApplication(
    coordinator: Coordinator, settings: CoordinatorSettings, logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
    try makeApplication(coordinator: coordinator, settings: settings, logger: logger, onServerRunning: onServerRunning)
}

/// The application: the router, the bounded HTTP/1 server, and the coordinator's services in
/// dependency order (``Coordinator/services``), which shut down in reverse after the server.
private func makeApplication(
    coordinator: Coordinator, settings: CoordinatorSettings, logger: Logger?,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void
) throws -> Application<RouterResponder<CoordinatorRequestContext>> {
    var logger = logger ?? Logger(label: "aitbc.coordinator")
    logger.logLevel = settings.logLevel
    let router = try buildRouter(coordinator: coordinator, settings: settings).router
    let tls = try serverTLSConfiguration(settings)
    let timeouts = BoundedHTTP1Channel.Timeouts(
        read: .seconds(Int64(settings.readTimeoutSeconds)), idle: .seconds(Int64(settings.idleTimeoutSeconds)),
        tlsHandshake: .seconds(Int64(settings.tlsHandshakeTimeoutSeconds)))
    let server = HTTPServerBuilder { responder in
        try BoundedHTTP1Channel(responder: responder, timeouts: timeouts, tls: tls)
    }
    let cap = ConnectionCap(maximum: settings.maximumConnections, open: coordinator.connections)
    var application = Application(
        router: router, server: server,
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "aitbc-coordinator",
            availableConnectionsDelegate: cap),
        onServerRunning: onServerRunning,
        logger: logger)
    application.addServices(coordinator.services)
    if let parent = settings.parentProcessID { application.addServices(ParentWatch(parent: parent, logger: logger)) }
    return application
}

/// The TLS configuration of the settings' certificate and key (TLS 1.2 or later), or nil for plain HTTP.
private func serverTLSConfiguration(_ settings: CoordinatorSettings) throws -> TLSConfiguration? {
    guard let certificate = settings.tlsCertificatePath, let key = settings.tlsKeyPath else { return nil }
    var configuration = TLSConfiguration.makeServerConfiguration(
        certificateChain: try NIOSSLCertificate.fromPEMFile(certificate).map { .certificate($0) },
        privateKey: .privateKey(try NIOSSLPrivateKey(file: key, format: .pem)))
    configuration.minimumTLSVersion = .tlsv12
    return configuration
}

/// The application's router, and what the API document and the tests need of it.
public struct CoordinatorRouter {
    public let router: Router<CoordinatorRequestContext>
    /// The `/v1` group: every route in it needs a key.
    public let v1: RouterGroup<AuthenticatedRequestContext>
    /// The API's routes, their paths as the API document names them (the dashboard's pages and the
    /// benchmark route are not part of the API).
    public let apiRoutes: [(path: String, method: HTTPRequest.Method)]
}

/// The router with every route and middleware. The key middleware guards the groups that need a key
/// (`/v1`, `/metrics`); a request no route matches is answered by ``UnroutedRequestMiddleware``.
public func buildRouter(coordinator: Coordinator, settings: CoordinatorSettings) throws -> CoordinatorRouter {
    let router = Router(context: CoordinatorRequestContext.self)
    let metrics = ServerMetrics()
    if settings.tlsCertificatePath != nil, settings.tlsKeyPath != nil {
        router.add(middleware: StrictTransportSecurityMiddleware())
    }
    router.add(middleware: RequestIDMiddleware())
    router.add(middleware: MetricsMiddleware(metrics: metrics))
    router.add(middleware: RequestLogMiddleware(level: .info))
    router.add(middleware: ErrorMiddleware())
    let proxies = settings.proxies
    let keys = APIKeyMiddleware(
        authenticator: coordinator.authenticator, budgets: coordinator.budgets, allowQueryKeys: settings.allowQueryKeys,
        proxies: proxies, tarpit: Tarpit(delay: .milliseconds(settings.authTarpitMilliseconds)), metrics: metrics,
        jobCost: settings.jobCreditCost,
        onRateLimited: { [outbox = coordinator.store.webhookOutbox, time = coordinator.time] principal, decision in
            outbox.noteRateLimited(
                principal.key, limit: decision.limit, retryAfterSeconds: decision.retryAfterSeconds, at: time.now())
        })

    HealthController(store: coordinator.store, lifecycle: coordinator.lifecycle).addRoutes(to: router)
    DocsController().addRoutes(to: router)
    let receipts = ReceiptController(jobs: coordinator.jobs, receipts: coordinator.receipts)
    receipts.addPublicRoutes(to: router)
    let v1 = router.group("v1").add(middleware: keys).group(context: AuthenticatedRequestContext.self)
    IdentityController(meters: coordinator.budgets.meters).addRoutes(to: v1)
    APIKeyController(keys: coordinator.keys, time: coordinator.time).addRoutes(to: v1)
    TenantController(tenants: coordinator.tenants, time: coordinator.time).addRoutes(to: v1)
    JobController(jobs: coordinator.jobs).addRoutes(to: v1)
    receipts.addRoutes(to: v1)
    UsageController(reports: coordinator.usageReports).addRoutes(to: v1)
    MinerController(miners: coordinator.miners, longPolls: coordinator.longPolls).addRoutes(to: v1)
    WebhookController(webhooks: coordinator.webhooks).addRoutes(to: v1)
    MetricsController(coordinator: coordinator, metrics: metrics)
        .addRoutes(to: router.group("metrics").add(middleware: keys).group(context: AuthenticatedRequestContext.self))
    let apiRoutes = router.routes.map { (path: OpenAPIDocument.documentedPath($0.path, method: $0.method), method: $0.method) }
    if settings.benchmarkRoutes {
        BenchmarkController(plan: settings.developmentPlan).addRoutes(to: router)
    }
    if settings.dashboardEnabled {
        let dashboard = try DashboardController<CoordinatorRequestContext>(
            accounts: coordinator.accounts, keys: coordinator.keys, time: coordinator.time,
            secrets: coordinator.secrets, secureCookies: settings.secureCookies,
            throttleKey: { request, context in
                request.clientAddress(peer: context.peer, proxies: proxies)?.throttleKey
            },
            budgets: coordinator.budgets)
        dashboard.addRoutes(to: router)
        dashboard.addUsageExport(to: router, reports: coordinator.usageReports)
        dashboard.addWebhooks(to: router, webhooks: coordinator.webhooks)
    }
    // Last, so that it wraps only the router's not-found answer; it knows every route by now.
    router.add(
        middleware: UnroutedRequestMiddleware(
            routes: router.routes.map { (path: $0.path, method: $0.method) }, keyedGroups: ["v1", "metrics"], keys: keys))
    return CoordinatorRouter(router: router, v1: v1, apiRoutes: apiRoutes)
}

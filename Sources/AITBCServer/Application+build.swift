import AITBCDashboard
import AITBCDomain
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOSSL
import Logging
import ServiceLifecycle

/// Builds the HTTP application over `coordinator`: the same function the executable and the tests call.
/// With a certificate and key in the settings it serves HTTPS only, TLS 1.2 or later. Connections
/// are held to the settings' read, idle and TLS-handshake timeouts and to the cap on open connections.
/// `onServerRunning` is called once the server listens.
public func buildApplication(
    coordinator: Coordinator, settings: CoordinatorSettings, logger: Logger? = nil,
    onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
) throws -> some ApplicationProtocol {
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
    return Application(
        router: router, server: server,
        configuration: .init(
            address: .hostname(settings.host, port: settings.port), serverName: "aitbc-coordinator",
            availableConnectionsDelegate: cap),
        services: [CoordinatorServices(coordinator: coordinator)],
        onServerRunning: onServerRunning,
        logger: logger)
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
        proxies: proxies, tarpit: Tarpit(delay: .milliseconds(settings.authTarpitMilliseconds)), metrics: metrics)

    HealthController(store: coordinator.store, lifecycle: coordinator.lifecycle).addRoutes(to: router)
    DocsController().addRoutes(to: router)
    let v1 = router.group("v1").add(middleware: keys).group(context: AuthenticatedRequestContext.self)
    IdentityController().addRoutes(to: v1)
    APIKeyController(keys: coordinator.keys, time: coordinator.time).addRoutes(to: v1)
    TenantController(tenants: coordinator.tenants, time: coordinator.time).addRoutes(to: v1)
    JobController(jobs: coordinator.jobs).addRoutes(to: v1)
    MinerController(miners: coordinator.miners, longPolls: coordinator.longPolls).addRoutes(to: v1)
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
    }
    // Last, so that it wraps only the router's not-found answer; it knows every route by now.
    router.add(
        middleware: UnroutedRequestMiddleware(
            routes: router.routes.map { (path: $0.path, method: $0.method) }, keyedGroups: ["v1", "metrics"], keys: keys))
    return CoordinatorRouter(router: router, v1: v1, apiRoutes: apiRoutes)
}

/// Runs `app` until SIGTERM or SIGINT, then drains: `/ready` turns 503 and waiting long-polls answer
/// 204 at once, the server stops accepting and finishes what is in flight, usage is flushed and storage
/// closed. A drain that takes longer than `maximumDrain` is cut short.
public func runCoordinator(
    _ app: some ApplicationProtocol, coordinator: Coordinator, logger: Logger, maximumDrain: Duration = .seconds(30)
) async throws {
    var configuration = ServiceGroupConfiguration(
        services: [.init(service: app), .init(service: DrainService(coordinator: coordinator, logger: logger))],
        gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    configuration.maximumGracefulShutdownDuration = maximumDrain
    try await ServiceGroup(configuration: configuration).run()
}

/// Listed after the application, so that at shutdown it runs first: it starts the drain before the
/// server waits for in-flight requests (which long-polls would otherwise hold open).
struct DrainService: Service {
    let coordinator: Coordinator
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        logger.notice("draining: not ready, releasing long-polls, finishing in-flight requests")
        await coordinator.beginDrain()
    }
}

/// Runs what a coordinator needs in the background: its storage services (PostgreSQL's pool and
/// the bus's listener), then its background work; at shutdown the work ends first (the last usage
/// flushed), the storage services after it, and the store is closed.
struct CoordinatorServices: Service {
    let coordinator: Coordinator

    func run() async throws {
        // A store closed while the application runs (a test does) ends its services early: not a failure.
        var services = coordinator.storageServices.map {
            ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .ignore)
        }
        services.append(.init(service: BackgroundWork(coordinator: coordinator)))
        let group = ServiceGroup(configuration: .init(services: services, logger: Logger(label: "aitbc.services")))
        do {
            try await group.run()
        } catch {
            try? await coordinator.store.close()
            throw error
        }
        try await coordinator.store.close()
    }
}

/// The background work of a coordinator: sweeps, usage flushes, cluster events, the shared budgets'
/// clean-up, retention, and the password-hashing threads, until shutdown.
struct BackgroundWork: Service {
    let coordinator: Coordinator

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await coordinator.sweeper.run() }
            group.addTask { try? await coordinator.flusher.run() }
            group.addTask { try? await coordinator.cluster.run() }
            if let janitor = coordinator.budgetJanitor { group.addTask { try? await janitor.run() } }
            group.addTask { try? await coordinator.retention.run() }
        }
        await coordinator.passwordHashing.shutdown()
    }
}

import AITBCServer
import Hummingbird
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Testing

extension Harness {
    /// Runs `body` with the port of this coordinator's application served on loopback, run as the
    /// executable runs it (HummingbirdTesting's live mode drops the connection cap from the
    /// configuration, and its client holds a connection of its own).
    func serve(_ body: @Sendable (Int) async throws -> Void) async throws {
        var settings = self.settings
        settings.host = "127.0.0.1"
        settings.port = try await Self.freePort()
        var logger = Logger(label: "live-test")
        logger.logLevel = .warning
        let application = try buildApplication(coordinator: coordinator, settings: settings, logger: logger)
        var configuration = ServiceGroupConfiguration(services: [application], logger: logger)
        // A test that failed with a request still open must not wait for it forever.
        configuration.maximumGracefulShutdownDuration = .seconds(5)
        let services = ServiceGroup(configuration: configuration)
        let port = settings.port
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await services.run() }
            do {
                try await Self.waitUntilServing(port: port, certificate: settings.tlsCertificatePath)
                try await waitUntil { coordinator.connections.current == 0 }
                try await waitUntilListening()
                try await body(port)
            } catch {
                await services.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                await close()
                throw error
            }
            await services.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        await close()
    }

    /// A loopback port nothing listens on right now.
    static func freePort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = channel.localAddress?.port
        try await channel.close()
        guard let port else { throw HarnessError(description: "no port") }
        return port
    }

    /// Waits until `GET /health` answers 200 (over TLS trusting `certificate`, when given).
    static func waitUntilServing(port: Int, certificate: String?) async throws {
        var tls: NIOSSLContext?
        if let certificate {
            var trusting = TLSConfiguration.makeClientConfiguration()
            trusting.trustRoots = .file(certificate)
            tls = try NIOSSLContext(configuration: trusting)
        }
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let connection = try? await WireClient.connect(port: port, tls: tls) {
                let status = try? await connection.request("GET", "/health", within: .seconds(5)).status
                await connection.close()
                if status == 200 { return }
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw HarnessError(description: "the server did not answer /health on port \(port) within 30 s")
    }
}

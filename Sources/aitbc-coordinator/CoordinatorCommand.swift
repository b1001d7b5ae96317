import AITBCServer
import ArgumentParser
import Foundation
import Hummingbird
import Logging

/// `aitbc-coordinator`: reads settings from flags and the environment, then runs the server.
@main
struct CoordinatorCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aitbc-coordinator",
        abstract: "The AITBC Coordinator: the API between clients who submit AI jobs and the miners who run them.",
        discussion: """
            Every setting is a flag or an environment variable; a flag wins. Settings and defaults:

            \(CoordinatorSettings.documentation.map { "  \($0.variable)=\($0.defaultValue)\n      \($0.meaning)" }.joined(separator: "\n"))

            In dev mode these variables become keys of tenant test-tenant, verbatim:
              CLIENT_API_KEY, MINER_API_KEY, MASTER_API_KEY, OPERATOR_API_KEY
            On a first start with an empty store and none of them, one operator key is created and printed once.

            Once it listens, the server logs at notice level the time it took from the start of main (storage
            opened, keys and queued jobs loaded): "listening address=… startup_ms=…".
            """,
        version: "0.1.0")

    @Option(help: "Address to listen on (AITBC_HOST).") var host: String?
    @Option(help: "Port to listen on (AITBC_PORT).") var port: Int?
    @Option(name: .customLong("database-url"), help: "Storage: sqlite:PATH or postgres://USER:PASSWORD@HOST:PORT/DATABASE (AITBC_DATABASE_URL).")
    var databaseURL: String?
    @Option(name: .customLong("env"), help: "dev or production (AITBC_ENV).") var environment: String?
    @Option(name: .customLong("log-level"), help: "Log level (AITBC_LOG_LEVEL).") var logLevel: String?

    func run() async throws {
        let launched = ContinuousClock.now
        var environment = ProcessInfo.processInfo.environment
        environment["AITBC_HOST"] = host ?? environment["AITBC_HOST"]
        environment["AITBC_PORT"] = port.map(String.init) ?? environment["AITBC_PORT"]
        environment["AITBC_DATABASE_URL"] = databaseURL ?? environment["AITBC_DATABASE_URL"]
        environment["AITBC_ENV"] = self.environment ?? environment["AITBC_ENV"]
        environment["AITBC_LOG_LEVEL"] = logLevel ?? environment["AITBC_LOG_LEVEL"]

        let settings: CoordinatorSettings
        do {
            settings = try CoordinatorSettings.fromEnvironment(environment)
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(2)
        }
        let level = settings.logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "aitbc.coordinator")
        logger.logLevel = level

        let built = try await start(settings: settings, logger: logger, launched: launched)
        if settings.mode == .development, !settings.developmentKeys.isEmpty {
            logger.info(
                "development keys of tenant test-tenant are registered at start",
                metadata: ["roles": .string(settings.developmentKeys.keys.map(\.rawValue).sorted().joined(separator: ","))])
        }
        try await runCoordinator(built.application, coordinator: built.coordinator, logger: logger)
    }

    /// The application the settings describe; exits 1 when storage cannot be opened, 2 when the TLS
    /// certificate or key cannot be used.
    private func start(
        settings: CoordinatorSettings, logger: Logger, launched: ContinuousClock.Instant
    ) async throws -> (application: some ApplicationProtocol, coordinator: Coordinator) {
        do {
            return try await buildApplication(settings: settings, logger: logger, announce: Self.announce) { [logger] channel in
                logger.notice(
                    "listening",
                    metadata: [
                        "address": "\(channel.localAddress.map { "\($0)" } ?? "?")",
                        "startup_ms": "\(Self.milliseconds(ContinuousClock.now - launched))",
                    ])
            }
        } catch let failure as StartupFailure {
            FileHandle.standardError.write(Data("error: \(failure)\n".utf8))
            if case .tls = failure { throw ExitCode(2) }
            throw ExitCode(1)
        }
    }

    /// Prints a newly created first operator key, once.
    @Sendable static func announce(_ secret: String) {
        print(
            """
            ==============================================================================
            Created the first operator key. It is shown this once and never again:

                \(secret)

            Keep it somewhere safe; use it as X-API-Key to create tenants and keys.
            ==============================================================================
            """)
    }

    /// `duration` in milliseconds with three decimals, for the start-up line the benchmarks read.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        return String(format: "%.3f", Double(seconds) * 1e3 + Double(attoseconds) / 1e15)
    }
}

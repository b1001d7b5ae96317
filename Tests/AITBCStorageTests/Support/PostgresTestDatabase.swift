import AITBCStorage
import AITBCTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// A database of its own on the test PostgreSQL server (see ``PostgresTestServer``), created for one
/// test and dropped after it, and the stores the tests open on it.
struct PostgresTestDatabase: Sendable {
    static var isConfigured: Bool { PostgresTestServer.isConfigured }
    static let skipReason = Comment(rawValue: PostgresTestServer.skipReason)
    /// The CA that signed the test server's certificate; nil when the server has no TLS.
    static var certificateAuthority: String? { PostgresTestServer.certificateAuthority }
    static var logger: Logger { PostgresTestServer.logger }

    let server: PostgresTestServer
    var name: String { server.name }
    /// The URL of this database (the base URL with the database replaced).
    var url: String { server.url }

    /// Creates an empty database.
    static func create() async throws -> PostgresTestDatabase {
        PostgresTestDatabase(server: try await PostgresTestServer.createDatabase(prefix: "aitbc_test_"))
    }

    /// Drops the database, closing whatever connections are still open to it.
    func drop() async throws {
        try await server.drop()
    }

    /// A store on this database, logging warnings and errors only. It waits up to 15 s for a
    /// connection and for answers (the defaults are 2 s and 5 s): the whole suite runs at once on
    /// two cores, and only the fault tests, which make their own configuration, are about how
    /// fast a call gives up.
    func open() async throws -> PostgresStore {
        var configuration = try configuration()
        configuration.connectTimeout = .seconds(15)
        configuration.connectionWaitTimeout = .seconds(15)
        configuration.queryTimeout = .seconds(15)
        return try await PostgresStore.open(configuration: configuration, logger: Self.quietLogger).running()
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "aitbc.postgres")
        logger.logLevel = .warning
        return logger
    }()

    /// The store's configuration for this database (the defaults).
    func configuration() throws -> PostgresStore.Configuration {
        try PostgresStore.Configuration(url: url)
    }

    /// Runs `body` on a connection to this database (for looking at what the store wrote).
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await server.withConnection(body)
    }
}

extension PostgresStore {
    /// This store with its pool running in a task of the test's own (sources run it as a service)
    /// until the store is closed.
    func running() -> PostgresStore {
        Task { await database.run() }
        return self
    }
}

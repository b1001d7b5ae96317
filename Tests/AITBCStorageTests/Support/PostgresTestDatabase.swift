import AITBCStorage
import Foundation
import Logging
import PostgresNIO
import Testing

/// A database of its own on the PostgreSQL server named by `AITBC_TEST_POSTGRES_URL`
/// (`scripts/test` starts one), created for one test and dropped after it.
struct PostgresTestDatabase: Sendable {
    /// The server's base URL; nil when the PostgreSQL tests are not to run.
    static let baseURL: String? = ProcessInfo.processInfo.environment["AITBC_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var isConfigured: Bool { baseURL != nil }
    /// The CA that signed the test server's certificate (`scripts/postgres` makes one when openssl is
    /// installed); nil when the server has no TLS.
    static let certificateAuthority: String? = ProcessInfo.processInfo.environment["AITBC_TEST_POSTGRES_CA"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static let skipReason: Comment =
        "needs AITBC_TEST_POSTGRES_URL: run scripts/test, which starts a PostgreSQL and sets it"

    let name: String
    /// The URL of this database (the base URL with the database replaced).
    let url: String

    /// Creates an empty database.
    static func create() async throws -> PostgresTestDatabase {
        let name = "aitbc_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        _ = try await administer { try await createDatabase(name, on: $0) }
        let base = try #require(baseURL)
        var components = try #require(URLComponents(string: base))
        components.path = "/" + name
        return PostgresTestDatabase(name: name, url: try #require(components.string))
    }

    /// Drops the database, closing whatever connections are still open to it.
    /// `CREATE DATABASE`, copying the template's files where the server can (PostgreSQL 15+): half the
    /// time of WAL-logging every page, which matters with a database per test on two cores.
    private static func createDatabase(_ name: String, on connection: PostgresConnection) async throws {
        let version = try await connection.query("SHOW server_version_num", logger: logger).collect().first
            .flatMap { Int(try $0.decode(String.self)) } ?? 0
        let strategy = version >= 150000 ? " STRATEGY FILE_COPY" : ""
        _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(strategy)"), logger: logger).collect()
    }

    func drop() async throws {
        _ = try await Self.administer {
            try await $0.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger).collect()
        }
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
        return try await PostgresStore.open(configuration: configuration, logger: Self.quietLogger)
    }

    static let quietLogger: Logger = {
        var logger = Logger(label: "aitbc.postgres")
        logger.logLevel = .warning
        return logger
    }()

    /// The store's configuration for this database.
    func configuration() throws -> PostgresStore.Configuration {
        try PostgresStore.Configuration(url: url)
    }

    /// Runs `body` on a connection to this database (for looking at what the store wrote).
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Self.withConnection(to: configuration(), body)
    }

    static let logger = Logger(label: "aitbc.test.postgres")

    private static func administer<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection(to: PostgresStore.Configuration(url: try #require(baseURL)), body)
    }

    private static func withConnection<T: Sendable>(
        to configuration: PostgresStore.Configuration, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: configuration.host, port: configuration.port, username: configuration.username,
                password: configuration.password, database: configuration.database, tls: .disable),
            id: 1, logger: logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}

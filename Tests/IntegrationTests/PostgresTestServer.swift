import Foundation
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL server named by `AITBC_TEST_POSTGRES_URL` (`scripts/test` starts one): each
/// test gets a database of its own, which it drops at the end.
struct PostgresTestServer: Sendable {
    static let baseURL: String? = ProcessInfo.processInfo.environment["AITBC_TEST_POSTGRES_URL"].flatMap {
        $0.isEmpty ? nil : $0
    }
    static var isConfigured: Bool { baseURL != nil }
    static let skipReason: Comment =
        "needs AITBC_TEST_POSTGRES_URL: run scripts/test, which starts a PostgreSQL and sets it"
    static let logger = Logger(label: "aitbc.test.postgres")

    let name: String
    /// `AITBC_DATABASE_URL` for this database.
    let url: String

    /// Creates an empty database.
    static func createDatabase() async throws -> PostgresTestServer {
        let name = "aitbc_it_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let base = try #require(baseURL)
        _ = try await withConnection(to: base) { try await createDatabase(name, on: $0) }
        var components = try #require(URLComponents(string: base))
        components.path = "/" + name
        return PostgresTestServer(name: name, url: try #require(components.string))
    }

    /// `CREATE DATABASE`, copying the template's files where the server can (PostgreSQL 15+): half the
    /// time of WAL-logging every page, which matters with a database per test on two cores.
    private static func createDatabase(_ name: String, on connection: PostgresConnection) async throws {
        let version = try await connection.query("SHOW server_version_num", logger: logger).collect().first
            .flatMap { Int(try $0.decode(String.self)) } ?? 0
        let strategy = version >= 150000 ? " STRATEGY FILE_COPY" : ""
        _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(strategy)"), logger: logger).collect()
    }

    func drop() async throws {
        _ = try await Self.withConnection(to: try #require(Self.baseURL)) {
            try await $0.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger).collect()
        }
    }

    /// Runs `body` on a connection to this database.
    func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Self.withConnection(to: url, body)
    }

    private static func withConnection<T: Sendable>(
        to url: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let components = try #require(URLComponents(string: url))
        let connection = try await PostgresConnection.connect(
            configuration: .init(
                host: try #require(components.host), port: components.port ?? 5432, username: try #require(components.user),
                password: components.password, database: String(components.path.dropFirst()), tls: .disable),
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

import Foundation
import Logging
import PostgresNIO

/// The PostgreSQL server named by `AITBC_TEST_POSTGRES_URL` (`scripts/postgres` starts one, with TLS
/// from a throwaway CA named by `AITBC_TEST_POSTGRES_CA` when openssl is installed). Each test makes
/// databases of its own on it and drops them.
public struct PostgresTestServer: Sendable {
    /// The server's base URL; nil when the PostgreSQL tests are not to run.
    public static let baseURL = setting("AITBC_TEST_POSTGRES_URL")
    /// The CA that signed the server's certificate; nil when the server has no TLS.
    public static let certificateAuthority = setting("AITBC_TEST_POSTGRES_CA")
    public static var isConfigured: Bool { baseURL != nil }
    public static let skipReason = "needs AITBC_TEST_POSTGRES_URL: run scripts/test, which starts a PostgreSQL and sets it"
    public static let logger = Logger(label: "aitbc.test.postgres")

    public let name: String
    /// The base URL with this database in it (an `AITBC_DATABASE_URL`).
    public let url: String

    /// Creates an empty database named `prefix` and a random suffix.
    public static func createDatabase(prefix: String) async throws -> PostgresTestServer {
        guard let base = baseURL, var components = URLComponents(string: base) else {
            throw TestSupportError("AITBC_TEST_POSTGRES_URL is not set or not a URL")
        }
        let name = prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        do {
            _ = try await withConnection(to: base) { try await createDatabase(name, on: $0) }
        } catch let error as PSQLError {
            throw TestSupportError("creating database \(name): \(String(reflecting: error))")
        }
        components.path = "/" + name
        guard let url = components.string else { throw TestSupportError("cannot put \(name) into \(base)") }
        return PostgresTestServer(name: name, url: url)
    }

    /// `CREATE DATABASE`, copying the template's files where the server can (PostgreSQL 15+): half the
    /// time of WAL-logging every page, which matters with a database per test on two cores.
    private static func createDatabase(_ name: String, on connection: PostgresConnection) async throws {
        let version = try await connection.query("SHOW server_version_num", logger: logger).collect().first
            .flatMap { Int(try $0.decode(String.self)) } ?? 0
        let strategy = version >= 150000 ? " STRATEGY FILE_COPY" : ""
        // The template may be in use for a moment (autovacuum visits template1; PostgreSQL then waits
        // 5 s and refuses with 55006 "being accessed by other users").
        try await whileInUse("CREATE DATABASE \(name)") {
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)\(strategy)"), logger: logger)
                .collect()
        }
    }

    /// Drops the database, closing whatever connections are still open to it.
    ///
    /// A process test's servers may still be running (their `defer` comes after this) and connect
    /// again between `FORCE` ending their sessions and the drop (55006 "being accessed by other
    /// users"); an autovacuum worker visiting the database is a session `FORCE` may not end without
    /// `pg_signal_backend` (42501): a few tries, then PostgreSQL's own words.
    public func drop() async throws {
        guard let base = Self.baseURL else { return }
        try await Self.whileInUse("dropping database \(name)") {
            _ = try await Self.withConnection(to: base) {
                try await $0.query("DROP DATABASE IF EXISTS \(unescaped: name) WITH (FORCE)", logger: Self.logger).collect()
            }
        }
    }

    /// Runs `statement` again while PostgreSQL says a database is in use by others (55006, or 42501
    /// when `FORCE` may not end one of them), up to four times more with a growing pause: a test should
    /// not fail on something that is not its subject. A failure says `what` was being done, in
    /// PostgreSQL's own words.
    private static func whileInUse(_ what: String, _ statement: () async throws -> Void) async throws {
        var attempt = 0
        while true {
            do {
                return try await statement()
            } catch let error as PSQLError where ["55006", "42501"].contains(error.serverInfo?[.sqlState]) && attempt < 4 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(250 * attempt))
            } catch let error as PSQLError {
                throw TestSupportError("\(what) failed: \(String(reflecting: error))")
            }
        }
    }

    /// Every row of every table of this database as text (`row_to_json`, bytes as hex): what scans
    /// for what must never be stored read.
    public func storedRows() async throws -> [String] {
        try await withConnection { connection in
            let tables = try await connection.query(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename", logger: Self.logger
            ).collect().map { try $0.decode(String.self) }
            var rows: [String] = []
            for table in tables {
                rows += try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT row_to_json(t)::text FROM \"\(table)\" t"), logger: Self.logger
                ).collect().map { try $0.decode(String.self) }
            }
            return rows
        }
    }

    /// Runs `body` on a connection to this database (for looking at what was written).
    public func withConnection<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await Self.withConnection(to: url, body)
    }

    /// Runs `body` on a plain connection to the database `url` names.
    public static func withConnection<T: Sendable>(
        to url: String, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard let components = URLComponents(string: url), let host = components.host, let user = components.user else {
            throw TestSupportError("not a PostgreSQL URL with a host and a user: \(url)")
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: String(components.path.dropFirst()), tls: .disable)
        // Patient, and tried three times: a busy machine runs many suites against this server at once.
        configuration.options.connectTimeout = .seconds(15)
        var connection: PostgresConnection?
        var failure: (any Error)?
        for attempt in 0..<3 where connection == nil {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 * attempt)) }
            do {
                connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            } catch {
                failure = error
            }
        }
        guard let connection else {
            throw TestSupportError("cannot connect to \(host): \(failure.map { String(reflecting: $0) } ?? "")")
        }
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func setting(_ name: String) -> String? {
        ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }
}

/// A test's set-up went wrong.
public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

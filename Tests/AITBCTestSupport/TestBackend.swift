import Foundation
import PostgresNIO
import Synchronization

/// The storage the HTTP, SDK and process suites run a coordinator on.
///
/// `scripts/test` runs those suites twice: on SQLite, then with `AITBC_TEST_BACKEND=postgres` on the
/// PostgreSQL server it starts. Plain `swift test` runs them on SQLite and says so once.
public enum TestBackend: String, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    /// The backend of this test process: `AITBC_TEST_BACKEND` (`sqlite` when unset).
    public static let current: TestBackend = {
        let named = ProcessInfo.processInfo.environment["AITBC_TEST_BACKEND"] ?? ""
        switch named.lowercased() {
        case "", "sqlite": return .sqlite
        case "postgres", "postgresql": return .postgres
        default: fatalError("AITBC_TEST_BACKEND must be sqlite or postgres, got \(named)")
        }
    }()

    public var description: String { self == .sqlite ? "SQLite" : "PostgreSQL" }

    /// Why a suite that needs a particular backend is skipped under the other.
    public static let onlyOnSQLite = "runs on SQLite only: it is about the SQLite file or an in-process bus"
}

/// A fresh database for one coordinator under test, on ``TestBackend/current``: a SQLite file in a
/// temporary folder, or a database of its own on the test PostgreSQL server.
public struct TestDatabase: Sendable {
    /// What `AITBC_DATABASE_URL` is set to.
    public let url: String
    /// The SQLite file; nil on PostgreSQL.
    public let sqlitePath: String?
    let postgres: PostgresTestServer?

    public var backend: TestBackend { postgres == nil ? .sqlite : .postgres }

    /// Connections a coordinator on a test database may open (`AITBC_DATABASE_MAX_CONNECTIONS`): a few,
    /// since a whole pass runs a hundred coordinators at once against one server of 1000 connections.
    public static let maximumConnections = 4

    /// A new empty database. On PostgreSQL, its URL waits up to 15 s for connections and answers:
    /// suites run many coordinators at once on two cores, and only the fault tests (which make
    /// their own configuration) are about how fast a call gives up.
    public static func make(prefix: String = "aitbc_http_", on backend: TestBackend = .current) async throws
        -> TestDatabase
    {
        switch backend {
        case .sqlite:
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("aitbc-test-\(UUID().uuidString)/coordinator.sqlite").path
            return TestDatabase(url: "sqlite:" + path, sqlitePath: path, postgres: nil)
        case .postgres:
            guard PostgresTestServer.isConfigured else {
                throw TestSupportError("AITBC_TEST_BACKEND=postgres \(PostgresTestServer.skipReason)")
            }
            let server = try await createPostgresDatabase(prefix: prefix)
            let separator = server.url.contains("?") ? "&" : "?"
            return TestDatabase(
                url: server.url + separator + "connect_timeout=15&query_timeout=15", sqlitePath: nil, postgres: server)
        }
    }

    /// `CREATE DATABASE` on the test server, tried three times: a busy machine running many suites
    /// at once may refuse one now and then. The last failure is reported in full.
    private static func createPostgresDatabase(prefix: String) async throws -> PostgresTestServer {
        var failure: (any Error)?
        for attempt in 0..<3 {
            if attempt > 0 { try await Task.sleep(for: .milliseconds(200 * attempt)) }
            do {
                return try await PostgresTestServer.createDatabase(prefix: prefix)
            } catch {
                failure = error
            }
        }
        throw TestSupportError("could not create a test database: \(failure.map { String(reflecting: $0) } ?? "")")
    }

    /// A database for a SQLite path a test chose, so a test that restarts a coordinator "on the same
    /// file" gets the same PostgreSQL database back (made on first use) on that backend.
    public static func named(_ path: String) async throws -> TestDatabase {
        if TestBackend.current == .sqlite { return TestDatabase(url: "sqlite:" + path, sqlitePath: path, postgres: nil) }
        if let known = Self.byPath.withLock({ $0[path] }) { return known }
        let made = try await make(prefix: "aitbc_proc_")
        return Self.byPath.withLock { known in
            if let earlier = known[path] { return earlier }
            known[path] = made
            return made
        }
    }

    private static let byPath = Mutex<[String: TestDatabase]>([:])

    /// Drops a PostgreSQL database (closing what is still connected); nothing on SQLite.
    public func drop() async {
        try? await postgres?.drop()
    }

    /// Everything stored, as bytes to search for what must never be stored: the SQLite file with
    /// its journal and WAL, or every row of every table as text on PostgreSQL.
    public func storedBytes() async throws -> Data {
        if let sqlitePath {
            var bytes = Data()
            for suffix in ["", "-wal", "-shm", "-journal"] {
                bytes += (try? Data(contentsOf: URL(fileURLWithPath: sqlitePath + suffix))) ?? Data()
            }
            return bytes
        }
        guard let postgres else { return Data() }
        return Data(try await postgres.storedRows().joined(separator: "\n").utf8)
    }
}

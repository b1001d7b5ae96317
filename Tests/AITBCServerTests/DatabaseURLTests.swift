import AITBCStorage
import Testing

@testable import AITBCServer

/// `AITBC_DATABASE_URL`: SQLite paths, PostgreSQL URLs (percent-decoded credentials, TLS modes),
/// and a clear refusal of anything else.
@Suite struct DatabaseURLTests {
    @Test func postgresURLsSelectPostgreSQLWithDecodedCredentials() throws {
        let settings = try CoordinatorSettings.fromEnvironment([
            "AITBC_DATABASE_URL": "postgres://app%40prod:p%40ss%3Aw%2Frd@db.internal:6543/coordinator?sslmode=verify-full",
            "AITBC_DATABASE_MAX_CONNECTIONS": "25",
        ])
        guard case .postgres(let configuration) = try settings.storage() else {
            Issue.record("not PostgreSQL")
            return
        }
        #expect(configuration.username == "app@prod")
        #expect(configuration.password == "p@ss:w/rd")
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6543)
        #expect(configuration.database == "coordinator")
        #expect(configuration.tls == .verifyFull)
        #expect(settings.databaseMaxConnections == 25)
        #expect(!configuration.redacted.contains("p@ss"))
    }

    @Test func postgresqlSchemeDefaultPortAndPlainConnection() throws {
        var settings = CoordinatorSettings()
        settings.databaseURL = "postgresql://aitbc@localhost"
        #expect(
            try settings.storage()
                == .postgres(.init(host: "localhost", port: 5432, username: "aitbc", password: nil, database: "aitbc", tls: .disable)))
        settings.databaseURL = "sqlite:/var/lib/aitbc/db.sqlite"
        #expect(try settings.storage() == .sqlite(path: "/var/lib/aitbc/db.sqlite"))
    }

    @Test(arguments: [
        ("postgres://db.internal/coordinator", "no user"),
        ("postgres://aitbc@/coordinator", "no host"),
        ("postgres://aitbc@db/coordinator?sslmode=always", "sslmode must be one of"),
        ("postgres://aitbc@db/coordinator?pool=5", "unsupported parameter pool"),
        ("postgres://aitbc@db/a/b", "one database"),
        ("postgres://aitbc@db:99999/coordinator", "must be 1 … 65535"),
        ("postgres://aitbc@db:port/coordinator", "not a valid PostgreSQL URL"),
        ("mysql://aitbc@db/coordinator", "sqlite:PATH or postgres://"),
    ])
    func badURLsAreRefusedSayingWhy(url: String, reason: String) throws {
        let error = try #require(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment(["AITBC_DATABASE_URL": url])
        }
        #expect(error.description.contains(reason), "\(error.description)")
    }
}

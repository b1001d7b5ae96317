import AITBCTestSupport
import Testing

extension PostgresTestServer {
    /// Why the PostgreSQL process tests are skipped, as Swift Testing takes it.
    static let skipComment = Comment(rawValue: skipReason)

    /// A database of its own for a process test (named apart from the storage tests' databases).
    static func createDatabase() async throws -> PostgresTestServer {
        try await createDatabase(prefix: "aitbc_it_")
    }
}

import AITBCStorage
import AITBCTestSupport
import Testing

/// Which storage the HTTP suites ran on. `scripts/test` runs AITBCServerTests, AITBCTests and
/// IntegrationTests on SQLite, then again with `AITBC_TEST_BACKEND=postgres`; plain `swift test` runs
/// the first pass only, and the skipped test below is the line that says so.
@Suite struct BackendCoverageTests {
    static let postgresPassSkipped = Comment(
        rawValue: """
            the PostgreSQL pass of every HTTP, SDK and process suite (AITBCServerTests, AITBCTests, \
            IntegrationTests) did not run: it needs AITBC_TEST_BACKEND=postgres and AITBC_TEST_POSTGRES_URL, \
            which scripts/test sets
            """)

    @Test(.enabled(if: TestBackend.current == .postgres, postgresPassSkipped))
    func theHTTPSuitesRunOnPostgreSQLInThisPass() async throws {
        let harness = try await Harness.make()
        #expect(harness.backend == .postgres)
        #expect(harness.coordinator.store is PostgresStore)
        await harness.close()
    }

    @Test(.enabled(if: TestBackend.current == .sqlite))
    func theHTTPSuitesRunOnSQLiteInThisPass() async throws {
        let harness = try await Harness.make()
        #expect(harness.coordinator.store is SQLiteStore)
        await harness.close()
    }
}

import Synchronization
import Testing

/// The databases made while one test case runs, dropped when it ends (see ``FreshPostgresDatabases``).
final class PostgresDatabaseScope: Sendable {
    @TaskLocal static var current: PostgresDatabaseScope?

    private let made = Mutex<[PostgresTestDatabase]>([])

    /// A new empty database, dropped at the end of the current test case (or never, outside one).
    static func makeDatabase() async throws -> PostgresTestDatabase {
        let database = try await PostgresTestDatabase.create()
        current?.made.withLock { $0.append(database) }
        return database
    }

    func dropAll() async {
        for database in made.withLock({ $0 }) { try? await database.drop() }
    }
}

/// Gives every test case of a suite a ``PostgresDatabaseScope``: the databases it creates are
/// dropped when it finishes, passed or failed.
struct FreshPostgresDatabases: TestTrait, SuiteTrait, TestScoping {
    var isRecursive: Bool { true }

    func scopeProvider(for test: Test, testCase: Test.Case?) -> FreshPostgresDatabases? {
        testCase == nil ? nil : self
    }

    func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let scope = PostgresDatabaseScope()
        do {
            try await PostgresDatabaseScope.$current.withValue(scope) { try await function() }
        } catch {
            await scope.dropAll()
            throw error
        }
        await scope.dropAll()
    }
}

extension Trait where Self == FreshPostgresDatabases {
    /// Drops the PostgreSQL databases a test case created when it ends.
    static var freshPostgresDatabases: Self { Self() }
}

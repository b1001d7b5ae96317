/// How storage has been doing: operations and the time they took, for `/metrics`.
public struct StorageStatistics: Sendable, Equatable {
    /// Calls made to the store: each caller's operation once, also when its write shared a commit.
    public var operations: Int
    public var failures: Int
    public var totalSeconds: Double
    /// Write transactions committed (SQLite: concurrent writes share one; see group commit in
    /// `SQLiteDatabase`). Zero on backends that do not count them.
    public var commits: Int

    public init(operations: Int = 0, failures: Int = 0, totalSeconds: Double = 0, commits: Int = 0) {
        self.operations = operations
        self.failures = failures
        self.totalSeconds = totalSeconds
        self.commits = commits
    }
}

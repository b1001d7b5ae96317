/// A write waiting for a group commit (see `SQLiteDatabase+GroupCommit.swift`), its result type
/// erased so that writes of every kind share one transaction.
protocol SQLiteQueuedWrite: Sendable {
    /// Runs the write's body on the writer's handle and keeps its outcome; returns the body's error, if any.
    func perform(on handle: SQLiteHandle) -> (any Error)?
    /// Answers the caller once its batch is over: with the body's own error if it failed, else with
    /// `batchFailure` if the batch did not commit, else with the body's result.
    func settle(batchFailure: (any Error)?)
}

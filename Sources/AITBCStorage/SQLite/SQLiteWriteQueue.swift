/// The writes waiting for the next group commit, oldest first, and whether a drain is under way
/// to take them (at most one at a time).
struct SQLiteWriteQueue {
    private var waiting: [any SQLiteQueuedWrite] = []
    private var draining = false

    /// Writes waiting now.
    var count: Int { waiting.count }

    /// Adds `write`; true when no drain is under way, so the caller must start one.
    mutating func enqueue(_ write: any SQLiteQueuedWrite) -> Bool {
        waiting.append(write)
        if draining { return false }
        draining = true
        return true
    }

    /// Takes the oldest waiting writes out of the queue, at most `limit`.
    mutating func take(atMost limit: Int) -> [any SQLiteQueuedWrite] {
        let batch = Array(waiting.prefix(limit))
        waiting.removeFirst(batch.count)
        return batch
    }

    /// Ends the drain if nothing waits (true); false when writes arrived meanwhile, for the drain to take.
    mutating func finishIfEmpty() -> Bool {
        guard waiting.isEmpty else { return false }
        draining = false
        return true
    }
}

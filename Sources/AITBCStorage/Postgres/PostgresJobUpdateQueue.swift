/// The job compare-and-sets waiting for the next shared statement, oldest first, whether a drain is
/// under way to take them (at most one at a time), and how many statements drains have sent.
struct PostgresJobUpdateQueue {
    private var waiting: [PostgresJobUpdate] = []
    private var draining = false
    /// Statements sent so far, each holding one or more updates.
    private(set) var statements = 0

    /// Adds `update`; true when no drain is under way, so the caller must start one.
    mutating func enqueue(_ update: PostgresJobUpdate) -> Bool {
        waiting.append(update)
        if draining { return false }
        draining = true
        return true
    }

    /// Takes the oldest waiting updates, at most `limit` and one per job: a second update of the
    /// same job waits, in order, for the next statement (one statement cannot decide both).
    mutating func take(atMost limit: Int) -> [PostgresJobUpdate] {
        var jobs = Set<String>()
        var batch: [PostgresJobUpdate] = []
        var rest: [PostgresJobUpdate] = []
        for update in waiting {
            if batch.count < limit, jobs.insert(update.row.id).inserted {
                batch.append(update)
            } else {
                rest.append(update)
            }
        }
        waiting = rest
        if !batch.isEmpty { statements += 1 }
        return batch
    }

    /// Ends the drain if nothing waits (true); false when updates arrived meanwhile, for the drain to take.
    mutating func finishIfEmpty() -> Bool {
        guard waiting.isEmpty else { return false }
        draining = false
        return true
    }
}

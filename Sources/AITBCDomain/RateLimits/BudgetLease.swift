/// The slice of one shared budget this instance holds (see ``BudgetLeases``), and the rate at which
/// it is being spent here, which sizes the next slice.
struct BudgetLease {
    /// The per-minute limit the slice was charged under; a request under another limit ends the lease.
    var limit: Int
    /// Units charged to the shared budget and not yet spent here.
    var units = 0
    /// Requests the shared budget had room for beyond its leases at this instance's last statement.
    var room = 0
    /// The shared budget's arrival time after this instance's last charge, Unix nanoseconds.
    var tat: Int64 = 0
    var interval: Int64
    /// When the slice ends (monotonic nanoseconds): a slice not renewed by then goes back.
    var expires: Int64
    /// Whether a statement leasing ahead is under way.
    var prefetching = false
    /// No leasing ahead before then (the shared budget had no room for it).
    var quietUntil: Int64 = 0
    /// Units spent per second here, smoothed.
    var rate: Double = 0
    var windowStart: Int64
    var windowCount = 0

    init(limit: Int, now: Int64) {
        self.limit = max(1, limit)
        self.interval = GCRA.windowNanoseconds / Int64(max(1, limit))
        self.expires = now
        self.windowStart = now
    }

    /// Counts `count` units spent at `now` into the observed rate (measured over windows of 100 ms at least).
    mutating func spend(_ count: Int, now: Int64) {
        units -= count
        windowCount += count
        let elapsed = now - windowStart
        guard elapsed >= 100_000_000 else { return }
        let observed = Double(windowCount) * 1e9 / Double(elapsed)
        rate = rate == 0 ? observed : (rate + observed) / 2
        windowStart = now
        windowCount = 0
    }

    /// The units to lease at a time: the observed rate over `horizon`, at least 1, at most `1/share` of the limit.
    func slice(horizon: Int64, share: Int) -> Int {
        let cap = max(1, limit / max(1, share))
        let wanted = Int((rate * Double(horizon) / 1e9).rounded(.up))
        return min(cap, max(1, wanted))
    }

    /// What this instance can report for the budget after a request: its units plus the room the shared
    /// budget had beyond them at the last statement, and when the budget would be full again were its
    /// units given back.
    func state(spentAfter later: Int = 0) -> (remaining: Int, reset: Int64) {
        (units + later + room, tat - Int64(units + later) * interval)
    }
}

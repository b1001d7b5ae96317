/// The thresholds of a quota or credit counter its tenant's webhooks hear of, each once: a quota's
/// 80 % and 100 % in each period (`quota.threshold`), a balance's 10 % of what it was last given and
/// 0 (`credits.low`). Which ones were told is kept beside the counter (``MeterCount/alerted``, one
/// bit each) and decided where the counter moves, so each is told once however many instances
/// spend it; a new period, a top-up or a refill clears the bits.
public enum MeterThresholds {
    /// A quota's thresholds, in percent of its limit; bit `1 << index` in ``MeterCount/alerted``.
    public static let quotaPercents = [80, 100]
    /// A balance's bit for its low threshold (10 % of what it was last given).
    public static let lowBit = 1
    /// A balance's bit for 0.
    public static let emptyBit = 2

    /// The bits of the quota thresholds `used` requests of `limit` reach.
    public static func quotaReached(limit: Int, used: Int) -> Int {
        var reached = 0
        for (index, percent) in quotaPercents.enumerated() where used * 100 >= percent * limit { reached |= 1 << index }
        return reached
    }

    /// The quota thresholds `used` requests of `limit` reach that `alerted` does not hold yet, and
    /// the bits with them. A bit whose threshold `used` does not reach at `limit` is cleared: the
    /// quota was raised since it was told (a plan or override change in the period), and the
    /// crossing of the new limit's threshold is told when it comes.
    public static func quota(limit: Int, used: Int, alerted: Int) -> (alerted: Int, percents: [Int]) {
        // Every threshold reached is marked (told before, or told now) and no other.
        let reached = quotaReached(limit: limit, used: used)
        let new = reached & ~alerted
        return (reached, quotaPercents.indices.filter { new & (1 << $0) != 0 }.map { quotaPercents[$0] })
    }

    /// The low threshold of a balance last given `granted`: 10 % of it, rounded down.
    public static func low(granted: Int) -> Int { granted / 10 }

    /// The balance thresholds (in credits) `remaining` is at or below that `alerted` does not hold
    /// yet, and the bits with them. Without `granted` (a balance set before it was kept) only 0
    /// counts; where 10 % rounds down to 0 the two are one.
    public static func credits(granted: Int?, remaining: Int, alerted: Int) -> (alerted: Int, thresholds: [Int]) {
        var alerted = alerted
        var thresholds: [Int] = []
        if let granted, alerted & lowBit == 0, low(granted: granted) > 0, remaining <= low(granted: granted) {
            alerted |= lowBit
            thresholds.append(low(granted: granted))
        }
        if alerted & emptyBit == 0, remaining <= 0 {
            alerted |= lowBit | emptyBit
            thresholds.append(0)
        }
        return (alerted, thresholds)
    }
}

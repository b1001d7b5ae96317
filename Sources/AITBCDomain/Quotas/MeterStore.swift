import Foundation

/// A stored counter of ``SpendingMeters``: the period it counts in and its value (requests used in
/// that period for a quota; credits remaining, refilled at `periodStart`, for a balance), and the
/// webhook thresholds it has crossed.
public struct MeterCount: Sendable, Equatable {
    /// Unix seconds.
    public var periodStart: Int64
    public var value: Int
    /// A balance's amount when it was last given (creation, top-up, refill): its low threshold is
    /// 10 % of it. Nil for a quota, and for a balance set before this was kept.
    public var granted: Int?
    /// The thresholds already told in this period or since the balance was last given
    /// (``MeterThresholds``).
    public var alerted: Int

    public init(periodStart: Int64, value: Int, granted: Int? = nil, alerted: Int = 0) {
        self.periodStart = periodStart
        self.value = value
        self.granted = granted
        self.alerted = alerted
    }
}

/// Storage of quota and credit counters, named by ``Meter/storageName``.
public protocol MeterStore: Sendable {
    /// The stored counters among `names`.
    func meterCounts(_ names: [String]) async throws -> [String: MeterCount]
    /// Writes `counts` (replacing what is stored under each name) durably, in one transaction, with
    /// the threshold `events` they crossed (each written only when its tenant subscribes to its type).
    func saveMeterCounts(_ counts: [String: MeterCount], events: [WebhookEvent]) async throws
}

extension MeterStore {
    /// Writes `counts` without events (a balance set anew).
    public func saveMeterCounts(_ counts: [String: MeterCount]) async throws {
        try await saveMeterCounts(counts, events: [])
    }
}

extension MeterCount {
    /// This balance as `refill` leaves it at `now`: set to the refill's amount (the balance's next
    /// setting) when a refill period began since it was last set, else unchanged.
    public func refilled(by refill: CreditRefill?, at now: Date) -> MeterCount {
        guard let refill else { return self }
        let start = refill.interval.start(containing: now)
        guard periodStart < start else { return self }
        return MeterCount(periodStart: start, value: refill.amount, granted: refill.amount)
    }

    /// This balance with its refill changed from `old` to `new` at `now`, and whether a refill `old`
    /// had due was made first (a new setting of the balance: what was taken before is not given back
    /// to it). What it holds is kept; it counts from `new`'s period containing `now` unless it counts
    /// from a later one already, so `new` refills first at its next boundary, never at once (a period
    /// start only moves forward: a request still charged under `old` meanwhile refills nothing either).
    public func refillChanged(from old: CreditRefill?, to new: CreditRefill?, at now: Date) -> (count: MeterCount, refilled: Bool) {
        var count = refilled(by: old, at: now)
        let dueRefillMade = count.periodStart != periodStart
        if let new { count.periodStart = max(count.periodStart, new.interval.start(containing: now)) }
        return (count, dueRefillMade)
    }
}

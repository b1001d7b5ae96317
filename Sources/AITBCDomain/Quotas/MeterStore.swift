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

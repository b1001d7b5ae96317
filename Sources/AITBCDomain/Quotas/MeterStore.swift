/// A stored counter of ``SpendingMeters``: the period it counts in and its value (requests used in
/// that period for a quota; credits remaining, refilled at `periodStart`, for a balance).
public struct MeterCount: Sendable, Equatable {
    /// Unix seconds.
    public var periodStart: Int64
    public var value: Int

    public init(periodStart: Int64, value: Int) {
        self.periodStart = periodStart
        self.value = value
    }
}

/// Storage of quota and credit counters, named by ``Meter/storageName``.
public protocol MeterStore: Sendable {
    /// The stored counters among `names`.
    func meterCounts(_ names: [String]) async throws -> [String: MeterCount]
    /// Writes `counts` (replacing what is stored under each name) durably, in one transaction.
    func saveMeterCounts(_ counts: [String: MeterCount]) async throws
}

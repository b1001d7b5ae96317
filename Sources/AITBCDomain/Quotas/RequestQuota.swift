/// Request quotas over calendar periods, beside a per-minute rate: per UTC day and per UTC month.
public struct RequestQuota: Sendable, Equatable, Hashable {
    public var perDay: Int?
    public var perMonth: Int?

    public init(perDay: Int? = nil, perMonth: Int? = nil) {
        self.perDay = perDay
        self.perMonth = perMonth
    }

    /// Whether no quota is set.
    public var isEmpty: Bool { perDay == nil && perMonth == nil }

    /// The limit over `period`, if one is set.
    public func limit(over period: QuotaPeriod) -> Int? {
        switch period {
        case .day: perDay
        case .month: perMonth
        }
    }
}

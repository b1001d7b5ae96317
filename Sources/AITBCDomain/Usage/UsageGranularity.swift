/// The width of a usage report's buckets: UTC hours or UTC days.
public enum UsageGranularity: String, Sendable, CaseIterable, Codable {
    case hour
    case day

    /// The bucket's length in seconds (Unix time has no leap seconds, so day buckets are UTC days).
    public var seconds: Int64 {
        switch self {
        case .hour: 3600
        case .day: 86400
        }
    }

    /// The longest range one report may span: 31 days of hours, 366 days.
    public var maximumRangeSeconds: Int64 {
        switch self {
        case .hour: 31 * 86400
        case .day: 366 * 86400
        }
    }

    /// The range a report covers when the caller names no `from`: the last 24 hours, or 30 days.
    public var defaultRangeSeconds: Int64 {
        switch self {
        case .hour: 24 * 3600
        case .day: 30 * 86400
        }
    }

    /// The start of the bucket holding `seconds` (Unix time).
    public func floor(_ seconds: Int64) -> Int64 {
        let remainder = seconds % self.seconds
        return remainder < 0 ? seconds - remainder - self.seconds : seconds - remainder
    }

    /// The first bucket boundary at or after `seconds`.
    public func ceiling(_ seconds: Int64) -> Int64 {
        let floored = floor(seconds)
        return floored == seconds ? seconds : floored + self.seconds
    }
}

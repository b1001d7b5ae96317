import Foundation

/// How long the coordinator keeps what it no longer needs: finished jobs, idempotency keys, usage
/// per minute and per hour, dashboard sessions, audit events, and webhook events and deliveries.
public struct RetentionPolicy: Sendable, Equatable {
    /// Days a finished (completed, failed, canceled, expired) job, its payload, result and receipt are kept.
    public var finishedJobsDays = 30
    /// Days audit events are kept.
    public var auditEventsDays = 400
    /// Hours usage is kept per minute before it is rolled into hours; at least 25, so that the usage
    /// routes (the last 24 hours, by minute and hour) always read minutes.
    public var usageMinutesHours = 48
    /// Days usage is kept per hour.
    public var usageHoursDays = 400
    /// Days webhook events and their deliveries are kept once no delivery of them is pending.
    public var webhookDays = 30

    /// The fewest hours usage may be kept per minute.
    public static let minimumUsageMinutesHours = 25
    /// An idempotency key protects a retry for 24 hours (the contract); after that it is never read.
    public static let idempotencyWindow: TimeInterval = 24 * 3600

    public init() {}

    /// Jobs that finished before this are deleted.
    public func finishedJobsCutoff(at now: Date) -> Date { now.addingTimeInterval(-Double(finishedJobsDays) * 86400) }

    /// Idempotency keys first used before this are deleted.
    public func idempotencyCutoff(at now: Date) -> Date { now.addingTimeInterval(-Self.idempotencyWindow) }

    /// Webhook events created before this, and their deliveries, are deleted once none is pending.
    public func webhookCutoff(at now: Date) -> Date { now.addingTimeInterval(-Double(webhookDays) * 86400) }

    /// Audit events recorded before this are deleted.
    public func auditEventsCutoff(at now: Date) -> Date { now.addingTimeInterval(-Double(auditEventsDays) * 86400) }

    /// Minutes before this hour (Unix seconds) are rolled into hours: only whole hours move, so an
    /// hour is either all minutes or (but for a late write) all one row.
    public func usageMinutesCutoff(at now: Date) -> Int64 {
        let cutoff = Int64(now.timeIntervalSince1970.rounded(.down)) - Int64(usageMinutesHours) * 3600
        return Self.hour(containing: cutoff)
    }

    /// Hours that began before this (Unix seconds) are deleted.
    public func usageHoursCutoff(at now: Date) -> Int64 {
        Self.hour(containing: Int64(now.timeIntervalSince1970.rounded(.down)) - Int64(usageHoursDays) * 86400)
    }

    static func hour(containing second: Int64) -> Int64 {
        second >= 0 ? second / 3600 * 3600 : (second - 3599) / 3600 * 3600
    }
}

/// What one pass of the ``RetentionJanitor`` deleted (usage minutes: rolled into hours).
public struct RetentionSweep: Sendable, Equatable {
    public var finishedJobs = 0
    public var idempotencyKeys = 0
    public var usageMinutesRolledUp = 0
    public var usageHours = 0
    public var sessions = 0
    public var auditEvents = 0
    public var webhookDeliveries = 0
    public var webhookEvents = 0

    public init() {}

    /// Whether the pass found nothing to do.
    public var isEmpty: Bool { self == RetentionSweep() }
}

/// Limits of the job flow.
public struct JobSettings: Sendable {
    public var defaultTTLSeconds = 900
    public var maximumTTLSeconds = 7 * 24 * 3600
    /// Largest payload and largest inline result, in bytes of JSON.
    public var maximumPayloadBytes = 1 << 20
    public var maximumResultBytes = 1 << 20
    /// A miner silent this long goes OFFLINE and its running jobs go back to the queue.
    public var heartbeatTimeoutSeconds = 60
    /// Longest a poll may wait.
    public var maximumPollWaitSeconds = 60.0
    /// Queued jobs, running jobs and miners per tenant, by plan.
    public var quotas = JobQuotaTable.standard
    /// Largest `constraints` of a job, in bytes of JSON (the payload has its own, larger bound).
    public var maximumConstraintsBytes = 16 * 1024
    /// Largest capabilities document of a miner, and largest heartbeat metadata, in bytes of JSON.
    public var maximumCapabilitiesBytes = 16 * 1024
    /// An OFFLINE miner unseen this long is forgotten (memory and storage); its id is free again.
    public var forgetMinersAfterSeconds = 7 * 24 * 3600

    public init() {}
}

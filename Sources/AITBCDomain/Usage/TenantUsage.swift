/// Usage of a tenant's keys since a minute, as one read gives it: each key with its totals, and every
/// key's counts together per minute.
public struct TenantUsage: Sendable {
    /// One key and what it counted since the minute (zero for a key unused since).
    public struct KeyTotal: Sendable, Equatable {
        public var record: APIKeyRecord
        public var counts: UsageCounts

        public init(record: APIKeyRecord, counts: UsageCounts) {
            self.record = record
            self.counts = counts
        }
    }

    /// The tenant's keys, newest first (at most the limit asked for).
    public var keys: [KeyTotal]
    /// All of the tenant's keys together, per minute (Unix seconds), oldest first.
    public var minutes: [(minute: Int64, counts: UsageCounts)]

    public init(keys: [KeyTotal], minutes: [(minute: Int64, counts: UsageCounts)]) {
        self.keys = keys
        self.minutes = minutes
    }
}

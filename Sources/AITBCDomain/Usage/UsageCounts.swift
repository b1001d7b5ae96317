import Foundation

/// Request counts of one key in one minute.
public struct UsageCounts: Sendable, Equatable {
    public var admitted: Int
    public var rateLimited: Int
    public var errors: Int

    public init(admitted: Int = 0, rateLimited: Int = 0, errors: Int = 0) {
        self.admitted = admitted
        self.rateLimited = rateLimited
        self.errors = errors
    }

    public static func += (lhs: inout UsageCounts, rhs: UsageCounts) {
        lhs.admitted += rhs.admitted
        lhs.rateLimited += rhs.rateLimited
        lhs.errors += rhs.errors
    }

    public var isEmpty: Bool { admitted == 0 && rateLimited == 0 && errors == 0 }
}

/// The key and minute a ``UsageCounts`` belongs to.
public struct UsageBucketKey: Hashable, Sendable {
    public var keyID: String
    /// Start of the minute, Unix seconds.
    public var minute: Int64

    public init(keyID: String, minute: Int64) {
        self.keyID = keyID
        self.minute = minute
    }
}

/// When and from where a key was last used.
public struct LastUse: Sendable, Equatable {
    public var at: Date
    public var from: String?

    public init(at: Date, from: String?) {
        self.at = at
        self.from = from
    }
}

/// A batch of usage for storage to add to what it has.
public struct UsageBatch: Sendable, Equatable {
    public var counts: [UsageBucketKey: UsageCounts]
    public var lastUses: [String: LastUse]

    public init(counts: [UsageBucketKey: UsageCounts] = [:], lastUses: [String: LastUse] = [:]) {
        self.counts = counts
        self.lastUses = lastUses
    }

    public var isEmpty: Bool { counts.isEmpty && lastUses.isEmpty }

    /// Adds `other` into this batch.
    public mutating func merge(_ other: UsageBatch) {
        for (key, value) in other.counts { counts[key, default: UsageCounts()] += value }
        for (key, value) in other.lastUses where (lastUses[key]?.at ?? .distantPast) < value.at {
            lastUses[key] = value
        }
    }
}

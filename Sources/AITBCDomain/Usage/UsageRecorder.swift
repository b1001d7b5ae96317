import Foundation
import Synchronization

/// How one authenticated request ended, for the usage counters.
public enum RequestOutcome: Sendable {
    case admitted
    case rateLimited
    case error
    /// Refused before any budget was charged (an address outside the key's allow-list): counted as an
    /// error, and not as the key's last use.
    case refused
}

/// Aggregates usage in memory; a ``UsageFlusher`` writes it to storage in batches.
public final class UsageRecorder: Sendable {
    private let pending = Mutex(UsageBatch())
    /// Flushes pass through it, and so do reads that add storage's counts to the unwritten ones: a
    /// read never sees a batch that has left memory but is not in storage yet (nor both at once).
    public let flushes = AsyncSerialGate()

    public init() {}

    /// Counts one request of `keyID`.
    public func record(keyID: String, outcome: RequestOutcome, at now: Date, from address: String?) {
        let minute = Int64(now.timeIntervalSince1970) / 60 * 60
        pending.withLock { batch in
            let bucket = UsageBucketKey(keyID: keyID, minute: minute)
            var counts = batch.counts[bucket] ?? UsageCounts()
            switch outcome {
            case .admitted: counts.admitted += 1
            case .rateLimited: counts.rateLimited += 1
            case .error, .refused: counts.errors += 1
            }
            batch.counts[bucket] = counts
            if outcome == .admitted || outcome == .error {
                batch.lastUses[keyID] = LastUse(at: now, from: address)
            }
        }
    }

    /// Takes everything recorded so far, leaving the recorder empty.
    public func drain() -> UsageBatch {
        pending.withLock { batch in
            let taken = batch
            batch = UsageBatch()
            return taken
        }
    }

    /// Puts back a batch that could not be written, so nothing is lost.
    public func restore(_ batch: UsageBatch) {
        pending.withLock { $0.merge(batch) }
    }

    /// The last use of `keyID` recorded but not yet written.
    public func unwrittenLastUse(keyID: String) -> LastUse? {
        pending.withLock { $0.lastUses[keyID] }
    }

    /// What is recorded for `keyID` but not yet written.
    public func unwritten(keyID: String) -> (counts: [Int64: UsageCounts], lastUse: LastUse?) {
        pending.withLock { batch in
            var counts: [Int64: UsageCounts] = [:]
            for (bucket, value) in batch.counts where bucket.keyID == keyID { counts[bucket.minute] = value }
            return (counts, batch.lastUses[keyID])
        }
    }

    /// What is recorded but not yet written for each of `keyIDs`, per key and minute, in one pass.
    public func unwritten(keyIDs: Set<String>) -> [String: [Int64: UsageCounts]] {
        pending.withLock { batch in
            var counts: [String: [Int64: UsageCounts]] = [:]
            for (bucket, value) in batch.counts where keyIDs.contains(bucket.keyID) {
                counts[bucket.keyID, default: [:]][bucket.minute, default: UsageCounts()] += value
            }
            return counts
        }
    }
}

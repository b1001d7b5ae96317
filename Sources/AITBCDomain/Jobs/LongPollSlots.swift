import Synchronization

/// The long-polls waiting at once on this instance, counted per key and per tenant: a poll beyond
/// either cap is refused with 429 `RATE_LIMIT_EXCEEDED` (`Retry-After: 1`, `details.bound` naming
/// the cap), so one key or one tenant cannot hold all the connections and waiters of the instance.
public final class LongPollSlots: Sendable {
    /// One waiting poll's place in the counts; hand it back with ``release(_:)``.
    public struct Slot: Sendable {
        let keyID: String
        let tenantID: String
    }

    private struct Counts {
        var byKey: [String: Int] = [:]
        var byTenant: [String: Int] = [:]
    }

    public let perKey: Int
    public let perTenant: Int
    private let counts = Mutex(Counts())

    public init(perKey: Int, perTenant: Int) {
        self.perKey = perKey
        self.perTenant = perTenant
    }

    /// Takes a slot for a poll of key `keyID` acting in tenant `tenantID`, or throws 429 when the
    /// key or the tenant already has as many polls waiting as its cap allows.
    public func acquire(keyID: String, tenantID: String) throws -> Slot {
        let refusal = counts.withLock { counts -> CoordinatorError? in
            let ofKey = counts.byKey[keyID, default: 0]
            let ofTenant = counts.byTenant[tenantID, default: 0]
            if ofKey >= perKey { return Self.refusal("long_polls_per_key", limit: perKey, of: "this key") }
            if ofTenant >= perTenant { return Self.refusal("long_polls_per_tenant", limit: perTenant, of: "this tenant") }
            counts.byKey[keyID] = ofKey + 1
            counts.byTenant[tenantID] = ofTenant + 1
            return nil
        }
        if let refusal { throw refusal }
        return Slot(keyID: keyID, tenantID: tenantID)
    }

    /// Gives back a slot taken by ``acquire(keyID:tenantID:)`` (once, when its poll has ended).
    public func release(_ slot: Slot) {
        counts.withLock { counts in
            Self.decrement(&counts.byKey, slot.keyID)
            Self.decrement(&counts.byTenant, slot.tenantID)
        }
    }

    /// Polls of key `keyID` waiting now.
    public func waiting(keyID: String) -> Int { counts.withLock { $0.byKey[keyID, default: 0] } }

    /// Polls in tenant `tenantID` waiting now.
    public func waiting(tenantID: String) -> Int { counts.withLock { $0.byTenant[tenantID, default: 0] } }

    /// Polls waiting now on this instance.
    public var total: Int { counts.withLock { $0.byTenant.values.reduce(0, +) } }

    private static func decrement(_ counts: inout [String: Int], _ id: String) {
        // Entries go at zero: memory follows the polls waiting, not every key that ever polled.
        guard let count = counts[id] else { return }
        counts[id] = count > 1 ? count - 1 : nil
    }

    private static func refusal(_ bound: String, limit: Int, of holder: String) -> CoordinatorError {
        .rateLimited(
            retryAfter: 1, "\(limit) long-polls of \(holder) are already waiting; retry when one has ended",
            details: ["bound": .string(bound), "limit": .int(limit)])
    }
}

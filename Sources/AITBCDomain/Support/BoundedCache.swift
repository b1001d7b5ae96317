import Synchronization

/// A size-bounded, approximately least-recently-used cache.
///
/// Two generations: lookups hit the young one or promote from the old one; when the young one
/// fills up it becomes the old one and the previous old one is dropped. Memory is bounded by
/// `capacity` entries whatever the number of keys in storage, and every operation is O(1).
public final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Generations {
        var young: [Key: Value] = [:]
        var old: [Key: Value] = [:]
        /// Counts changes (``set(_:for:)``, ``remove(_:)``, ``removeAll()``), not fills.
        var changes: UInt64 = 0
    }

    private let generationSize: Int
    private let state: Mutex<Generations>

    /// A cache holding at most `capacity` entries.
    public init(capacity: Int) {
        self.generationSize = max(1, capacity / 2)
        self.state = Mutex(Generations())
    }

    /// The cached value for `key`, if any.
    public func value(for key: Key) -> Value? {
        state.withLock { generations in
            if let value = generations.young[key] { return value }
            guard let value = generations.old.removeValue(forKey: key) else { return nil }
            Self.insert(value, for: key, into: &generations, generationSize: generationSize)
            return value
        }
    }

    /// The number of changes so far: take it before reading what ``fill(_:for:ifUnchangedSince:)`` will store.
    public var changeCount: UInt64 { state.withLock { $0.changes } }

    /// Stores `value` for `key`, read from the source of truth since `changeCount` was `count`, unless
    /// a change was made meanwhile (the read may predate it: storing it would undo the change).
    /// Returns whether it was stored.
    @discardableResult
    public func fill(_ value: Value, for key: Key, ifUnchangedSince count: UInt64) -> Bool {
        state.withLock { generations in
            guard generations.changes == count else { return false }
            generations.old.removeValue(forKey: key)
            Self.insert(value, for: key, into: &generations, generationSize: generationSize)
            return true
        }
    }

    /// Stores `value` for `key` (a change: fills that began before it are not stored).
    public func set(_ value: Value, for key: Key) {
        state.withLock { generations in
            generations.changes &+= 1
            generations.old.removeValue(forKey: key)
            Self.insert(value, for: key, into: &generations, generationSize: generationSize)
        }
    }

    /// Forgets `key`.
    public func remove(_ key: Key) {
        state.withLock { generations in
            generations.changes &+= 1
            generations.young.removeValue(forKey: key)
            generations.old.removeValue(forKey: key)
        }
    }

    /// Forgets everything.
    public func removeAll() {
        state.withLock { $0 = Generations(changes: $0.changes &+ 1) }
    }

    /// How many entries are held now.
    public var count: Int { state.withLock { $0.young.count + $0.old.count } }

    private static func insert(_ value: Value, for key: Key, into generations: inout Generations, generationSize: Int) {
        if generations.young.count >= generationSize, generations.young[key] == nil {
            generations.old = generations.young
            generations.young = [:]
            generations.young.reserveCapacity(generationSize)
        }
        generations.young[key] = value
    }
}

import Foundation
import Synchronization

/// The quota and credit counters of this instance, decided in memory: a tenant's requests in the
/// current UTC day and month, and each metered key's credit balance.
///
/// A counter is read from storage the first time it is needed (once per process) and then counted
/// here; changes are written behind in batches by the ``UsageFlusher`` (``flush()``) and at
/// shutdown. A `kill -9` loses at most the spending of one flush interval (those requests may be
/// admitted again after the restart); a top-up or a key's creation is written at once.
///
/// A request is charged everything at once or nothing: ``charge(_:cost:)`` checks every counter
/// under one lock before it changes any, and ``refund(_:)`` gives a charge back when a later check
/// (the rate limit) refuses the request. The request that moves a counter across a webhook
/// threshold (``MeterThresholds``) makes its event, written with the counter's write-behind.
public final class SpendingMeters: Sendable {
    struct State {
        /// A counter and whether it changed since the last flush.
        struct Counter {
            var count: MeterCount
            var dirty = false
            /// Which setting of a balance this is (as ``MeterGrant/generation`` is on PostgreSQL): each
            /// ``SpendingMeters/setBalance(keyID:remaining:refill:)`` and each refill makes the next,
            /// so that a refund of a charge taken before gives nothing to the new one; a change of
            /// refill alone keeps it (``SpendingMeters/changeRefill(keyID:from:to:)``).
            var generation: Int64 = 0
        }

        private(set) var counts: [Meter: Counter] = [:]
        /// The counters changed since the last flush, each once (the flag in ``counts`` says which are).
        private var changed: [Meter] = []
        /// Threshold events of counters changed since the last flush, written with them.
        var events: [WebhookEvent] = []

        subscript(meter: Meter) -> MeterCount? { counts[meter]?.count }

        /// Sets `meter`'s count and marks it changed.
        mutating func update(_ meter: Meter, _ count: MeterCount) {
            if let index = counts.index(forKey: meter) { return update(at: index, count) }
            counts[meter] = Counter(count: count, dirty: true)
            changed.append(meter)
        }

        /// Sets the count at `index` of ``counts`` and marks it changed: no key is hashed again.
        mutating func update(at index: Dictionary<Meter, Counter>.Index, _ count: MeterCount) {
            counts.values[index].count = count
            guard !counts.values[index].dirty else { return }
            counts.values[index].dirty = true
            changed.append(counts.keys[index])
        }

        /// Sets `meter`'s count as written (or read) already: not changed.
        mutating func set(_ meter: Meter, written count: MeterCount) {
            counts[meter] = Counter(count: count, dirty: false, generation: generation(of: meter))
        }

        /// Sets `meter`'s balance anew (a top-up, a key's creation), written already: the next generation.
        mutating func setAnew(_ meter: Meter, written count: MeterCount) {
            counts[meter] = Counter(count: count, dirty: false, generation: generation(of: meter) + 1)
        }

        /// The generation `meter`'s count belongs to (0 before any was set here).
        func generation(of meter: Meter) -> Int64 { counts[meter]?.generation ?? 0 }

        /// Makes `generation` the one of the count at `index` (a refill made by a charge).
        mutating func setGeneration(at index: Dictionary<Meter, Counter>.Index, _ generation: Int64) {
            counts.values[index].generation = generation
        }

        /// Changes the refill of balance `meter` (in memory: ``SpendingMeters/load(_:)`` first) from
        /// `old` to `new`, keeping what it holds (``MeterCount/refillChanged(from:to:at:)``), as
        /// written already; the count to write.
        mutating func changeRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?, now: Date) -> MeterCount? {
            guard let counter = counts[meter] else { return nil }
            let (count, refilled) = counter.count.refillChanged(from: old, to: new, at: now)
            counts[meter] = Counter(count: count, dirty: false, generation: counter.generation + (refilled ? 1 : 0))
            return count
        }

        /// Marks `meter` changed again (its write failed).
        mutating func markChanged(_ meter: Meter) {
            guard let index = counts.index(forKey: meter), !counts.values[index].dirty else { return }
            counts.values[index].dirty = true
            changed.append(meter)
        }

        /// The changed counters, each marked unchanged.
        mutating func takeChanged() -> [Meter: MeterCount] {
            var batch: [Meter: MeterCount] = [:]
            for meter in changed {
                guard let index = counts.index(forKey: meter), counts.values[index].dirty else { continue }
                counts.values[index].dirty = false
                batch[meter] = counts.values[index].count
            }
            changed.removeAll(keepingCapacity: true)
            return batch
        }
    }

    /// Seconds a caller whose balance never refills is told to wait: long enough not to be polled.
    public static let noRefillRetryAfter = 86_400

    private let state = Mutex(State())
    let store: (any MeterStore)?
    let time: any TimeSource
    /// Serialises flushes.
    public let flushes = AsyncSerialGate()
    /// The slices of shared counters this instance holds, when instances share a store (PostgreSQL):
    /// then the counts are decided there, not here (``MeterLeases``).
    public let leases: MeterLeases?

    /// - Parameter authority: the shared store's counters (PostgreSQL), or nil: this instance counts alone.
    public init(store: (any MeterStore)?, time: any TimeSource, authority: (any MeterLeaseAuthority)? = nil) {
        self.store = store
        self.time = time
        self.leases = authority.map { MeterLeases(authority: $0, time: time) }
    }

    /// What one admitted request was charged: what ``refund(_:)`` gives back, and the tightest
    /// quota's state after it (`X-Quota-*`).
    public struct Charge: Sendable {
        /// A quota counter charged one request, with the period start it counted in.
        struct QuotaTaken {
            var meter: Meter
            var periodStart: Int64
            var limit: Int
        }

        /// The balance charged, the credits taken and the refill period they were taken in.
        struct CreditsTaken {
            var meter: Meter
            var cost: Int
            var periodStart: Int64
            /// The setting of the balance they were taken from: the store's when slices of it are leased,
            /// this instance's otherwise (``State/Counter/generation``).
            var generation: Int64 = 0
        }

        // Structs, not tuples: an array of tuples is copied through the runtime's generic tuple
        // witnesses, measured on every metered request.
        var quotas: [QuotaTaken]
        var credits: CreditsTaken?
        public let quota: QuotaState?
        /// The key's balance after this charge, when credits were charged.
        public var creditsRemaining: Int?
    }

    /// Charges one request of `principal` to its tenant's quotas and `cost` credits to its key's
    /// balance, or throws 429 `QUOTA_EXCEEDED` / `CREDITS_EXHAUSTED` having charged nothing. Nil
    /// when neither applies (nothing is read or locked).
    /// `now` is the request's time when the caller has read the clock already.
    public func charge(_ principal: Principal, cost: Int, at now: Date? = nil) async throws -> Charge? {
        let quota = principal.quota
        let credits = principal.key.credits
        guard quota != nil || credits != nil else { return nil }
        if let leases { return try await leases.charge(principal, cost: cost, quota: quota, credits: credits) }
        let now = now ?? time.now()
        var meters: [Meter] = []
        meters.reserveCapacity(3)
        if let quota {
            for period in QuotaPeriod.allCases where quota.limit(over: period) != nil {
                meters.append(.quota(tenantID: principal.tenant.id, period: period))
            }
        }
        if credits != nil { meters.append(.credits(keyID: principal.key.id)) }
        let limits = quota ?? RequestQuota()
        // Every counter is in memory after its first use: decided under one lock, nothing read.
        if let charged = try state.withLock({ state in
            try Self.charge(
                &state, meters: meters, quota: limits, credits: credits, cost: cost, now: now, tenantID: principal.key.tenantID,
                loaded: true)
        }) {
            return charged
        }
        try await load(meters)
        return try state.withLock { state in
            try Self.charge(
                &state, meters: meters, quota: limits, credits: credits, cost: cost, now: now, tenantID: principal.key.tenantID)
        }
    }

    /// Gives back what `charge` took, if its periods are still current.
    public func refund(_ charge: Charge) {
        if let leases {
            for taken in charge.quotas { leases.giveBack(taken.meter, units: 1, periodStart: taken.periodStart) }
            if let taken = charge.credits {
                leases.giveBack(taken.meter, units: taken.cost, periodStart: taken.periodStart, generation: taken.generation)
            }
            return
        }
        state.withLock { state in
            for taken in charge.quotas {
                guard var count = state[taken.meter], count.periodStart == taken.periodStart else { continue }
                count.value = max(0, count.value - 1)
                state.update(taken.meter, Self.rearming(taken.meter, count, limit: taken.limit, events: &state.events))
            }
            // Credits go back only to the setting they were taken from: a top-up or a refill since
            // sets a new balance (a change of refill alone does not).
            if let taken = charge.credits, var count = state[taken.meter], state.generation(of: taken.meter) == taken.generation {
                count.value += taken.cost
                state.update(taken.meter, Self.rearming(taken.meter, count, limit: nil, events: &state.events))
            }
        }
    }

    /// Gives back `credits` of the credits `charge` took, if the balance was not set anew or refilled since.
    public func refund(credits: Int, of charge: Charge) {
        guard let taken = charge.credits else { return }
        let (meter, cost, periodStart) = (taken.meter, taken.cost, taken.periodStart)
        if let leases {
            return leases.giveBack(meter, units: min(credits, cost), periodStart: periodStart, generation: taken.generation)
        }
        state.withLock { state in
            guard var count = state[meter], state.generation(of: meter) == taken.generation else { return }
            count.value += min(credits, cost)
            state.update(meter, Self.rearming(meter, count, limit: nil, events: &state.events))
        }
    }

    /// The tightest quota's state for `principal` now, charging nothing; nil when no quota applies.
    public func quotaState(of principal: Principal) async throws -> QuotaState? {
        guard let quota = principal.quota else { return nil }
        let now = time.now()
        let meters = QuotaPeriod.allCases.filter { quota.limit(over: $0) != nil }
            .map { Meter.quota(tenantID: principal.tenant.id, period: $0) }
        try await load(meters)
        return state.withLock { state in Self.tightest(state, meters: meters, quota: quota, now: now) }
    }

    /// The balance of `key`, refilled if a refill is due; nil for a key without credits.
    public func balance(of key: APIKeyRecord) async throws -> CreditBalance? {
        guard let credits = key.credits else { return nil }
        if let leases {
            return CreditBalance(
                remaining: try await leases.balance(of: key, credits: credits), refill: credits.refill,
                nextRefillUnixSeconds: credits.refill?.interval.end(containing: time.now()))
        }
        let meter = Meter.credits(keyID: key.id)
        try await load([meter])
        let now = time.now()
        let remaining = state.withLock { state in
            Self.currentBalance(state[meter], refill: credits.refill, now: now).value
        }
        return CreditBalance(
            remaining: remaining, refill: credits.refill, nextRefillUnixSeconds: credits.refill?.interval.end(containing: now))
    }

    /// The balance of `key` as a charge just left it (``Charge/creditsRemaining``): nothing is read
    /// again. Nil for a key without credits.
    public func balance(of key: APIKeyRecord, charged remaining: Int) -> CreditBalance? {
        guard let credits = key.credits else { return nil }
        return CreditBalance(
            remaining: remaining, refill: credits.refill, nextRefillUnixSeconds: credits.refill?.interval.end(containing: time.now()))
    }

    /// Sets the balance of key `keyID` to `remaining` (creation, a top-up) and writes it at once;
    /// a refill then happens at the next period boundary, not before.
    public func setBalance(keyID: String, remaining: Int, refill: CreditRefill?) async throws {
        let meter = Meter.credits(keyID: keyID)
        // A balance given anew is armed again for its `credits.low` events.
        let count = MeterCount(
            periodStart: refill?.interval.start(containing: time.now()) ?? 0, value: remaining, granted: remaining)
        // Beside the flusher: a batch it took before must not overwrite this afterwards.
        try await flushes.run { [self] in
            try await withoutLeaseUnderWay {
                // The slice held is the old balance's: it goes (and is not given back: the store
                // counts a new setting from this write on, ``MeterGrant/generation``).
                leases?.drop(meter)
                state.withLock { state in state.setAnew(meter, written: count) }
                do {
                    try await store?.saveMeterCounts([meter.storageName: count])
                } catch {
                    state.withLock { $0.markChanged(meter) }
                    throw CoordinatorError.storageUnavailable
                }
            }
        }
    }

    /// Changes the refill of key `keyID`'s balance from `old` to `new` (a change of the key that
    /// gives no `remaining`) and writes it at once; what the balance holds is kept, whatever requests
    /// spend from it meanwhile, here or on other instances (their slices stay its own), and `new`
    /// refills first at its next period boundary (``MeterCount/refillChanged(from:to:at:)``). The
    /// balance after it; 0 for a balance never written.
    @discardableResult
    public func changeRefill(keyID: String, from old: CreditRefill?, to new: CreditRefill?) async throws -> Int {
        let meter = Meter.credits(keyID: keyID)
        return try await flushes.run { [self] in
            try await withoutLeaseUnderWay {
                if let leases { return try await leases.changeRefill(meter, from: old, to: new) }
                try await load([meter])
                let now = time.now()
                // Read and set under one lock: no charge falls between them.
                guard let count = state.withLock({ $0.changeRefill(meter, from: old, to: new, now: now) }) else { return 0 }
                do {
                    try await store?.saveMeterCounts([meter.storageName: count])
                } catch {
                    state.withLock { $0.markChanged(meter) }
                    throw CoordinatorError.storageUnavailable
                }
                return count.value
            }
        }
    }

    /// Runs `body` while no lease of this instance is under way (behind the leasing gate), so that
    /// none answers across it with units of a balance `body` sets anew.
    private func withoutLeaseUnderWay<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        guard let leases else { return try await body() }
        return try await leases.leasing.run(body)
    }

    /// Takes the counters changed since the last flush, and their threshold events, to be written.
    public func drain() -> (counts: [String: MeterCount], events: [WebhookEvent]) {
        state.withLock { state in
            var batch: [String: MeterCount] = [:]
            for (meter, count) in state.takeChanged() { batch[meter.storageName] = count }
            defer { state.events.removeAll() }
            return (batch, state.events)
        }
    }

    /// Marks counters of a batch that could not be written as changed again, and keeps its events.
    public func restore(_ batch: (counts: [String: MeterCount], events: [WebhookEvent])) {
        state.withLock { state in
            for meter in state.counts.keys.filter({ batch.counts[$0.storageName] != nil }) { state.markChanged(meter) }
            state.events.insert(contentsOf: batch.events, at: 0)
        }
    }

    /// Writes the changed counters; on failure keeps them for the next attempt.
    @discardableResult
    public func flush() async -> Bool {
        if let leases {
            // Shared counters are written as they are leased; unspent slices go back each interval.
            await leases.release()
            return true
        }
        guard let store else {
            // Nothing keeps the counters: their threshold events go nowhere either.
            _ = drain()
            return true
        }
        return (try? await flushes.run { [self] in
            let batch = drain()
            guard !batch.counts.isEmpty || !batch.events.isEmpty else { return true }
            do {
                try await store.saveMeterCounts(batch.counts, events: batch.events)
                return true
            } catch {
                restore(batch)
                return false
            }
        }) ?? false
    }

    /// Reads from storage the counters among `meters` not yet in memory.
    func load(_ meters: [Meter]) async throws {
        let missing = state.withLock { state in meters.filter { state[$0] == nil } }
        guard !missing.isEmpty else { return }
        var loaded: [String: MeterCount] = [:]
        if let store {
            do {
                loaded = try await store.meterCounts(missing.map(\.storageName))
            } catch {
                throw CoordinatorError.storageUnavailable
            }
        }
        state.withLock { state in
            for meter in missing where state[meter] == nil {
                // A balance never written is empty: spending what was never granted is the worse mistake.
                state.set(meter, written: loaded[meter.storageName] ?? MeterCount(periodStart: 0, value: 0))
            }
        }
    }
}

import Foundation
import Synchronization

/// The slices of shared quota and credit counters this instance holds (PostgreSQL): a request is
/// charged from memory while the slices last, and a slice is leased from the ``MeterLeaseAuthority``
/// when one runs short. A leased unit counts as spent in the shared counter from the moment it is
/// taken, so N instances together never admit more than the counter holds.
///
/// A slice is the units needed now plus 1/16 of what the counter had left at the last lease (at
/// most 255): when little is left, slices are one unit and the last unit goes to whichever instance
/// asks first. Unspent units go back every flush interval and at shutdown; a quota's go back when
/// its tenant changes, a balance's when its key changes, here or on another instance. A balance's
/// units give back only to the setting they were taken from (``MeterGrant/generation``): a top-up
/// sets the balance anew, and units leased before it must not be added to it; units leased after
/// it go back in full. A top-up on this instance drops the slice (its units are the old balance's).
/// A crash loses what the slices held: those units are never admitted (nothing is re-granted).
/// A counter the store found spent is refused from memory for a while (``MeterRefusals``).
public final class MeterLeases: Sendable {
    struct Held: Sendable {
        var kind: MeterKind
        var periodStart: Int64
        var units: Int
        var remainingBeyond: Int
        /// The key of a balance, so a change to the key ends its lease.
        var digest: APIKeyDigest?
        /// The setting of the balance the units were taken from (0 for a quota).
        var generation: Int64 = 0
    }

    struct Need: Sendable {
        var meter: Meter
        var kind: MeterKind
        var units: Int
        var periodStart: Int64
        var digest: APIKeyDigest?
        /// The tenant the counter belongs to (a balance's key's tenant), for its webhook events.
        var tenantID: String
    }

    /// Largest slice beyond what a request needs.
    static let maximumSlice = 255
    /// Times a request tries its slices and leases before it is refused.
    static let maximumRounds = 32

    let state = Mutex([Meter: Held]())
    /// The lease under way (one at a time, behind ``leasing``), and whether its key changed meanwhile
    /// (maybe a top-up on another instance): then what it took may be the old balance's, and it is
    /// given back (to the setting it came from) instead of spent. Taken before ``state`` where both
    /// are locked.
    let underWay = Mutex<(meter: Meter, digest: APIKeyDigest?, setAnew: Bool)?>(nil)
    /// One lease at a time (the dashboard's gauge reads between them).
    let leasing = AsyncSerialGate()
    /// Counters the store found spent, refused from memory meanwhile.
    public let refusals = MeterRefusals()
    let authority: any MeterLeaseAuthority
    let time: any TimeSource

    public init(authority: any MeterLeaseAuthority, time: any TimeSource) {
        self.authority = authority
        self.time = time
    }

    /// Units held now of `meter` (tests).
    public func heldUnits(_ meter: Meter) -> Int { state.withLock { $0[meter]?.units ?? 0 } }

    /// Charges one request of `principal` (quota) and `cost` credits from the held slices, leasing
    /// what is short; throws the refusal having charged nothing.
    func charge(_ principal: Principal, cost: Int, quota: RequestQuota?, credits: KeyCredits?) async throws -> SpendingMeters.Charge {
        let now = time.now()
        var needs: [Need] = []
        if let quota {
            for period in QuotaPeriod.allCases {
                guard let limit = quota.limit(over: period) else { continue }
                needs.append(
                    Need(
                        meter: .quota(tenantID: principal.tenant.id, period: period), kind: .quota(limit: limit), units: 1,
                        periodStart: period.start(containing: now), tenantID: principal.tenant.id))
            }
        }
        if let credits {
            needs.append(
                Need(
                    meter: .credits(keyID: principal.key.id), kind: .credits(refill: credits.refill), units: cost,
                    periodStart: credits.refill?.interval.start(containing: now) ?? 0, digest: principal.key.digest,
                    tenantID: principal.key.tenantID))
        }
        for _ in 0..<Self.maximumRounds {
            if let charge = state.withLock({ Self.take(&$0, needs, now: now) }) { return charge }
            for need in needs {
                // A counter the store found spent is refused from memory, without queueing for the gate.
                if let (grant, held) = remembered(need, now: now), held.units < need.units, grant.remainingBeyond < need.units - held.units {
                    throw refusal(need, held: held, needs: needs, now: now)
                }
                // One lease at a time per instance: requests that queue behind it usually find it
                // covered them, and a burst does not take every pooled connection at once.
                let (grant, held) = try await leasing.run { [self] in try await lease(need, now: now) }
                // The counter had too little, but a concurrent request of this instance may have leased
                // enough meanwhile: refused only when what is held here is short too.
                if let grant, grant.units == 0, held.units < need.units { throw refusal(need, held: held, needs: needs, now: now) }
            }
        }
        // Concurrent requests kept taking what this one leased: refused, as when the counter is spent.
        let first = needs[0]
        let held = state.withLock { $0[first.meter] } ?? Held(kind: first.kind, periodStart: first.periodStart, units: 0, remainingBeyond: 0)
        throw refusal(first, held: held, needs: needs, now: now)
    }

    /// Leases what `need` lacks here (nothing, and no grant, when the slice now covers it) and adds
    /// it to the slice; the grant and the slice after it.
    private func lease(_ need: Need, now: Date) async throws -> (MeterGrant?, Held) {
        // Under way from before the slice is read: a key change from here on is seen when it answers.
        underWay.withLock { $0 = (need.meter, need.digest, false) }
        let (short, known, current) = state.withLock { held -> (Int, Int, Held?) in
            guard let current = held[need.meter], Self.isCurrent(current, need) else { return (need.units, 0, nil) }
            return (max(0, need.units - current.units), current.remainingBeyond, current)
        }
        if short == 0, let current {
            underWay.withLock { $0 = nil }
            return (nil, current)
        }
        // Requests that queued behind the lease that found the counter spent need not ask again.
        if let (grant, held) = remembered(need, now: now), grant.remainingBeyond < short {
            underWay.withLock { $0 = nil }
            return (grant, held)
        }
        let epoch = refusals.epoch
        let grant: MeterGrant
        do {
            grant = try await authority.leaseMeter(
                need.meter, tenantID: need.tenantID, kind: need.kind, periodStart: need.periodStart,
                want: short + min(Self.maximumSlice, known / 16), need: short, at: now)
        } catch {
            underWay.withLock { $0 = nil }
            throw CoordinatorError.storageUnavailable
        }
        if grant.units == 0, short > 0 {
            refusals.record(
                need.meter, kind: need.kind, periodStart: grant.periodStart, available: grant.remainingBeyond,
                digest: need.digest, now: now, epoch: epoch)
        }
        let held = underWay.withLock { underWay -> Held? in
            defer { underWay = nil }
            // The key changed while the lease was under way (a top-up on another instance, told
            // here): its units may be the old balance's. They are not spent but given back below, to
            // the setting they came from; the request asks again.
            guard underWay?.setAnew != true else { return nil }
            return state.withLock { held -> Held in
                let generation: Int64 = if case .credits = need.kind { grant.generation } else { 0 }
                // A quota's slice holds while its period does. A balance's holds while its setting does,
                // wherever its period start stands: a change of refill alone (elsewhere, not yet told
                // here) moves that start on, and the units are still the balance's.
                let kept = held[need.meter].flatMap { current -> Held? in
                    if case .credits = need.kind { return current.generation == generation ? current : nil }
                    return Self.isCurrent(current, need) ? current : nil
                }
                // Otherwise a balance set anew or refilled since the slice was taken: what it held was
                // the old one's. A quota has one setting.
                var entry = kept ?? Held(kind: need.kind, periodStart: grant.periodStart, units: 0, remainingBeyond: 0, digest: need.digest)
                entry.units += grant.units
                entry.periodStart = grant.periodStart
                entry.kind = need.kind
                entry.remainingBeyond = grant.remainingBeyond
                entry.generation = generation
                held[need.meter] = entry
                return entry
            }
        }
        guard let held else {
            try? await authority.returnMeter(
                need.meter.storageName, kind: need.kind, periodStart: grant.periodStart, units: grant.units,
                generation: grant.generation)
            return (nil, Held(kind: need.kind, periodStart: grant.periodStart, units: 0, remainingBeyond: 0, digest: need.digest))
        }
        return (grant, held)
    }

    /// A remembered refusal of `need`'s counter as the grant the store gave then (no units; what the
    /// counter had beyond), with the slice held now; nil when none holds (ask the store).
    private func remembered(_ need: Need, now: Date) -> (MeterGrant, Held)? {
        guard let available = refusals.available(need.meter, kind: need.kind, periodStart: need.periodStart, now: now) else {
            return nil
        }
        var held = state.withLock { $0[need.meter].flatMap { Self.isCurrent($0, need) ? $0 : nil } }
            ?? Held(kind: need.kind, periodStart: need.periodStart, units: 0, remainingBeyond: available, digest: need.digest)
        held.remainingBeyond = available
        return (MeterGrant(units: 0, periodStart: held.periodStart, remainingBeyond: available), held)
    }

    /// Takes every need from the held slices, or nothing (nil) when one is short.
    static func take(_ held: inout [Meter: Held], _ needs: [Need], now: Date) -> SpendingMeters.Charge? {
        for need in needs {
            guard let current = held[need.meter], isCurrent(current, need), current.units >= need.units else { return nil }
        }
        var quotas: [SpendingMeters.Charge.QuotaTaken] = []
        var credits: SpendingMeters.Charge.CreditsTaken?
        var creditsRemaining: Int?
        for need in needs {
            held[need.meter]?.units -= need.units
            if case .credits = need.kind {
                credits = .init(
                    meter: need.meter, cost: need.units, periodStart: held[need.meter]?.periodStart ?? need.periodStart,
                    generation: held[need.meter]?.generation ?? 0)
                creditsRemaining = held[need.meter].map { $0.units + $0.remainingBeyond }
            } else {
                guard case .quota(let limit) = need.kind else { continue }
                quotas.append(.init(meter: need.meter, periodStart: need.periodStart, limit: limit))
            }
        }
        return SpendingMeters.Charge(
            quotas: quotas, credits: credits, quota: tightest(held, needs, now: now), creditsRemaining: creditsRemaining)
    }

    static func isCurrent(_ held: Held, _ need: Need) -> Bool {
        if case .credits = need.kind { return held.periodStart >= need.periodStart }
        return held.periodStart == need.periodStart
    }

    /// The quota among `needs` with the fewest requests left, as far as this instance knows.
    static func tightest(_ held: [Meter: Held], _ needs: [Need], now: Date) -> QuotaState? {
        var best: QuotaState?
        for need in needs {
            guard case .quota(let limit) = need.kind, case .quota(_, let period) = need.meter else { continue }
            let entry = held[need.meter].flatMap { isCurrent($0, need) ? $0 : nil }
            let remaining = min(limit, (entry?.units ?? 0) + (entry?.remainingBeyond ?? limit))
            let state = QuotaState(
                period: period, limit: limit, remaining: remaining, resetUnixSeconds: period.end(containing: now),
                observedAtUnixSeconds: Int64(now.timeIntervalSince1970.rounded(.down)))
            if best.map({ state.remaining < $0.remaining }) ?? true { best = state }
        }
        return best
    }

    private func refusal(_ need: Need, held: Held, needs: [Need], now: Date) -> CoordinatorError {
        let quota = state.withLock { Self.tightest($0, needs, now: now) }
        switch (need.kind, need.meter) {
        case (.quota(let limit), .quota(_, let period)):
            return SpendingMeters.quotaExceeded(period, limit: limit, end: period.end(containing: now), now: now, state: quota)
        case (.credits(let refill), _):
            return SpendingMeters.creditsExhausted(
                remaining: held.units + held.remainingBeyond, cost: need.units, refill: refill, now: now, quota: quota)
        default:
            return CoordinatorError.storageUnavailable
        }
    }

    /// Puts `units` of `meter` back into the slice they were taken from, if it is still current (a
    /// quota's period; a balance's setting, which a top-up or a refill ends and a change of refill
    /// alone keeps).
    func giveBack(_ meter: Meter, units: Int, periodStart: Int64, generation: Int64 = 0) {
        state.withLock { held in
            guard var entry = held[meter], entry.generation == generation else { return }
            if case .quota = entry.kind, entry.periodStart != periodStart { return }
            entry.units += units
            held[meter] = entry
        }
    }

    /// Changes the refill of balance `meter` in the store (``MeterLeaseAuthority/changeMeterRefill(_:from:to:at:)``;
    /// the caller holds ``leasing``): the slice held here stays the balance's and counts in its new
    /// period, unless a refill due was made (then it was the old balance's and goes). The balance
    /// after it: the slice plus what the store has beyond every lease.
    func changeRefill(_ meter: Meter, from old: CreditRefill?, to new: CreditRefill?) async throws -> Int {
        let grant: MeterGrant?
        do {
            grant = try await authority.changeMeterRefill(meter, from: old, to: new, at: time.now())
        } catch {
            throw CoordinatorError.storageUnavailable
        }
        refusals.forget { candidate, _ in candidate == meter }
        return state.withLock { held in
            guard let grant else {
                held[meter] = nil
                return 0
            }
            guard var entry = held[meter], entry.generation == grant.generation else {
                held[meter] = nil
                return grant.remainingBeyond
            }
            entry.kind = .credits(refill: new)
            entry.periodStart = grant.periodStart
            entry.remainingBeyond = grant.remainingBeyond
            held[meter] = entry
            return entry.units + grant.remainingBeyond
        }
    }

    /// The balance of `key`: what this instance holds plus what the counter had beyond it at the
    /// last lease, or (holding none) the counter itself.
    func balance(of key: APIKeyRecord, credits: KeyCredits) async throws -> Int {
        let meter = Meter.credits(keyID: key.id)
        let start = credits.refill?.interval.start(containing: time.now()) ?? 0
        if let held = state.withLock({ $0[meter] }), held.periodStart >= start { return held.units + held.remainingBeyond }
        do {
            return try await authority.leaseMeter(
                meter, tenantID: key.tenantID, kind: .credits(refill: credits.refill), periodStart: start, want: 0, need: 0,
                at: time.now()).remainingBeyond
        } catch {
            throw CoordinatorError.storageUnavailable
        }
    }
}

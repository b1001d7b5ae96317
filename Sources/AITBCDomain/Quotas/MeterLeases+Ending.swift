/// Ending slices: when their counter changed (a key or tenant change, here or on another instance),
/// at every flush interval and at shutdown.
extension MeterLeases: LeaseHolder {
    /// Forgets the slice of `meter` without giving it back (its counter was set anew).
    func drop(_ meter: Meter) {
        refusals.forget { candidate, _ in candidate == meter }
        dropSlices { candidate, _ in candidate == meter }
    }

    /// Forgets the slices `matching` selects, and marks a lease of one of them under way as set anew:
    /// what it took is not added when it answers, but given back to the setting it came from.
    @discardableResult
    func dropSlices(matching: (Meter, APIKeyDigest?) -> Bool) -> [(Meter, Held)] {
        underWay.withLock { underWay in
            if let lease = underWay, matching(lease.meter, lease.digest) { underWay?.setAnew = true }
            return state.withLock { held in
                let dropped = held.filter { matching($0.key, $0.value.digest) }
                held = held.filter { !matching($0.key, $0.value.digest) }
                return dropped.map { ($0.key, $0.value) }
            }
        }
    }

    /// Ends the slices `matching` selects, giving their units back to the setting they were taken
    /// from (nothing goes back to a balance set anew since: those units were the old one's).
    func returnSlices(matching: (Meter, APIKeyDigest?) -> Bool) async {
        for (meter, entry) in dropSlices(matching: matching) where entry.units > 0 {
            try? await authority.returnMeter(
                meter.storageName, kind: entry.kind, periodStart: entry.periodStart, units: entry.units,
                generation: entry.generation)
        }
    }

    /// Ends the leases `event` affects: a changed key's balance and a changed tenant's quotas go
    /// back (a balance's only to the setting it was leased from: after a top-up its units are the
    /// old balance's and go nowhere); after a missed-events resync, all of them. A lease of a changed
    /// key under way gives its units back the same way when it answers. Remembered refusals of those
    /// counters are forgotten (a top-up or a new quota may admit again).
    public func end(for event: ClusterEvent) async {
        switch event {
        case .keyChanged(let digests):
            refusals.forget { _, digest in digest.map(digests.contains) ?? false }
            await returnSlices { _, digest in digest.map(digests.contains) ?? false }
        case .tenantChanged(let id):
            refusals.forget { meter, _ in
                if case .quota(let tenantID, _) = meter { return tenantID == id }
                return false
            }
            await release { meter in
                if case .quota(let tenantID, _) = meter { return tenantID == id }
                return false
            }
        case .resync:
            refusals.forget { _, _ in true }
            await returnSlices { _, digest in digest != nil }
            await release { _ in true }
        default:
            break
        }
    }

    /// Gives back every unspent unit of the slices `matching` selects (all: at a flush and at shutdown).
    public func release(matching: (Meter) -> Bool = { _ in true }) async {
        let taken = state.withLock { held -> [(Meter, Held)] in
            var taken: [(Meter, Held)] = []
            // The entry stays (empty): a refund of a request charged before this still finds its slice.
            for (meter, entry) in held where matching(meter) && entry.units > 0 {
                held[meter]?.units = 0
                taken.append((meter, entry))
            }
            return taken
        }
        for (meter, entry) in taken {
            // A unit that cannot go back stays spent: never re-granted, at worst under-admitted.
            try? await authority.returnMeter(
                meter.storageName, kind: entry.kind, periodStart: entry.periodStart, units: entry.units,
                generation: entry.generation)
        }
        // Units given back make a spent counter admit again: this instance's refusals of it end.
        let released = Set(taken.map(\.0))
        if !released.isEmpty { refusals.forget { meter, _ in released.contains(meter) } }
    }
}

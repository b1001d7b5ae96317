/// Ending slices: when their counter changed (a key or tenant change, here or on another instance),
/// at every flush interval and at shutdown.
extension MeterLeases: LeaseHolder {
    /// Forgets the slice of `meter` without giving it back (its counter was set anew).
    func drop(_ meter: Meter) {
        refusals.forget { candidate, _ in candidate == meter }
        dropSlices { candidate, _ in candidate == meter }
    }

    /// Forgets the slices `matching` selects, and marks a lease of one of them under way as set anew:
    /// what it took is not added when it answers.
    func dropSlices(matching: (Meter, APIKeyDigest?) -> Bool) {
        underWay.withLock { underWay in
            if let lease = underWay, matching(lease.meter, lease.digest) { underWay?.setAnew = true }
            state.withLock { held in held = held.filter { !matching($0.key, $0.value.digest) } }
        }
    }

    /// Ends the leases `event` affects: a changed key's balance is dropped, a changed tenant's
    /// quotas go back; after a missed-events resync, all of them. Remembered refusals of those
    /// counters are forgotten (a top-up or a new quota may admit again).
    public func end(for event: ClusterEvent) async {
        switch event {
        case .keyChanged(let digests):
            refusals.forget { _, digest in digest.map(digests.contains) ?? false }
            dropSlices { _, digest in digest.map(digests.contains) ?? false }
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
            dropSlices { _, digest in digest != nil }
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
            try? await authority.returnMeter(meter.storageName, kind: entry.kind, periodStart: entry.periodStart, units: entry.units)
        }
        // Units given back make a spent counter admit again: this instance's refusals of it end.
        let released = Set(taken.map(\.0))
        if !released.isEmpty { refusals.forget { meter, _ in released.contains(meter) } }
    }
}

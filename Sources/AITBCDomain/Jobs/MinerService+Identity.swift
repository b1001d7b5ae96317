/// Which miner a call acts for, its place within the tenant's miner quota, and writing it down.
extension MinerService {
    /// The miner `key` as this instance knows it, or (shared storage) as another instance registered it.
    func knownMiner(_ key: MinerKey) async throws -> Miner? {
        if let known = await queue.miner(key) { return known }
        guard bus.isShared, let stored = try await storageCall({ try await store.miner(tenantID: key.tenantID, id: key.minerID) })
        else { return nil }
        await queue.update(stored)
        return stored
    }

    /// The miner a call acts for: named by id, else the one this key registered last, else one named
    /// after the key id (created on first use).
    func resolveMiner(_ requested: String?, for caller: Principal) async throws -> Miner {
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let id: String
        if let requested {
            id = try JobRules.validMinerID(requested)
        } else if let latest = await queue.miners(of: tenantID).filter({ $0.keyID == caller.key.id })
            .max(by: { $0.registeredAt < $1.registeredAt })
        {
            return latest
        } else {
            id = caller.key.id
        }
        if let known = try await knownMiner(MinerKey(tenantID: tenantID, minerID: id)) {
            guard known.keyID == caller.key.id else { throw JobRules.minerNotOwned(id) }
            return known
        }
        let now = time.now()
        let key = MinerKey(tenantID: tenantID, minerID: id)
        try await reserveMiner(key, for: caller)
        let miner = Miner(
            id: id, tenantID: tenantID, keyID: caller.key.id, capabilities: [:], concurrency: 1, region: nil,
            status: .online, registeredAt: now, lastSeenAt: now)
        do {
            try await save(miner)
        } catch {
            await queue.cancelMinerReservation(key)
            throw error
        }
        return miner
    }

    /// Holds a place for a new miner `key` within its tenant's miner quota, or throws 429.
    func reserveMiner(_ key: MinerKey, for caller: Principal) async throws {
        let limits = try await JobRules.limits(of: key.tenantID, for: caller, quotas: settings.quotas, in: store)
        await queue.setLimits(limits, of: key.tenantID)
        if let count = await queue.reserveMiner(key, limit: limits.miners) {
            throw JobRules.quotaExceeded("miners", limit: limits.miners, current: count)
        }
    }

    /// Writes `miner` and updates the queue; 403 `MINER_NOT_OWNED` when storage says another key
    /// holds the id (registered through another instance, or after a release, meanwhile).
    func save(_ miner: Miner) async throws {
        guard try await storageCall({ try await committer.save(miner) }) else {
            if let stored = try? await store.miner(tenantID: miner.tenantID, id: miner.id) { await queue.update(stored) }
            throw JobRules.minerNotOwned(miner.id)
        }
    }
}

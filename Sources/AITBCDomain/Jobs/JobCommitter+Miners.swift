/// Where a miner's record is written: storage first, then this instance's queue, then the event that
/// tells the other instances. What only refreshes this instance's memory from storage is not here.
extension JobCommitter {
    /// Writes `miner` unless storage says another key holds its id (false then; nothing changed);
    /// then the queue follows, and the other instances hear of it when what they match on changed.
    func save(_ miner: Miner) async throws -> Bool {
        let key = MinerKey(tenantID: miner.tenantID, minerID: miner.id)
        let previous = await queue.miner(key)
        guard try await store.upsertMiner(miner) else { return false }
        await queue.update(miner)
        if previous?.status != miner.status || previous?.capabilities != miner.capabilities
            || previous?.concurrency != miner.concurrency || previous?.registeredAt != miner.registeredAt
        {
            await bus.publish(.minerChanged(key))
        }
        return true
    }

    /// Deletes the miner `key` from storage, puts its running jobs back in the queue and forgets it
    /// (its waiting polls end), here and on the other instances. Returns how many jobs went back, or
    /// nil when storage had no such miner (nothing changed).
    func release(_ key: MinerKey) async throws -> Int? {
        guard try await store.deleteMiner(tenantID: key.tenantID, id: key.minerID) else { return nil }
        let requeued = await requeueRunningJobs(of: key)
        await queue.removeMiner(key)
        await bus.publish(.minerChanged(key))
        return requeued
    }

    /// Deletes the long-gone miner `key` from storage (if it is still there) and forgets it, here and
    /// on the other instances. It runs nothing: no job goes back to the queue.
    func forget(_ key: MinerKey) async throws {
        _ = try await store.deleteMiner(tenantID: key.tenantID, id: key.minerID)
        await queue.removeMiner(key)
        await bus.publish(.minerChanged(key))
    }
}

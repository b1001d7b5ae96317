import AITBCWire
import Foundation
import Logging

/// The miner side of the job flow: register, heartbeat, drain and release a miner, long-poll for
/// jobs and report on them. A miner id belongs to the key that registered it.
public struct MinerService: Sendable {
    let store: any JobStore & MinerStore & TenantStore
    let queue: JobQueue
    let committer: JobCommitter
    let time: any TimeSource
    let secrets: any SecretSource
    public let settings: JobSettings
    let logger: Logger
    /// Whether other instances share the store (then it is read for miners registered there).
    let bus: any ClusterBus
    /// The key completed and failed jobs' receipts are signed with.
    public let receipts: ReceiptKeyring

    /// `queue` is the one this instance's ``JobService``, ``JobSweeper`` and ``ClusterSync`` share;
    /// `bus` tells other instances on a shared store what changed here; `receipts` signs receipts
    /// (by default with a key of its own, generated now: for tests).
    public init(
        store: any JobStore & MinerStore & TenantStore, queue: JobQueue, time: any TimeSource, secrets: any SecretSource,
        settings: JobSettings, logger: Logger, bus: any ClusterBus = StandaloneBus(), receipts: ReceiptKeyring = .ephemeral()
    ) {
        self.store = store
        self.queue = queue
        self.committer = JobCommitter(store: store, queue: queue, bus: bus)
        self.time = time
        self.secrets = secrets
        self.settings = settings
        self.logger = logger
        self.bus = bus
        self.receipts = receipts
    }

    /// Registers (or re-registers) a miner of the caller's tenant.
    public func register(
        minerID: String?, capabilities: [String: JSONValue], concurrency: Int?, region: String?, by caller: Principal
    ) async throws -> Miner {
        try caller.require(.minersWrite)
        let concurrency = concurrency ?? 1
        guard (1...1024).contains(concurrency) else {
            throw CoordinatorError.invalidField("concurrency", "concurrency must be 1 … 1024")
        }
        guard try JobRules.canonical(capabilities).count <= settings.maximumCapabilitiesBytes else {
            throw JobRules.tooLarge("capabilities", limit: settings.maximumCapabilitiesBytes)
        }
        if let region, region.isEmpty || region.utf8.count > 128 {
            throw CoordinatorError.invalidField("region", "region must be 1 … 128 characters")
        }
        let now = time.now()
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let id = try minerID.map(JobRules.validMinerID) ?? caller.key.id
        let key = MinerKey(tenantID: tenantID, minerID: id)
        let existing = try await knownMiner(key)
        if let existing, existing.keyID != caller.key.id { throw JobRules.minerNotOwned(id) }
        if existing == nil { try await reserveMiner(key, for: caller) }
        let miner = Miner(
            id: id, tenantID: tenantID, keyID: caller.key.id, capabilities: capabilities, concurrency: concurrency,
            region: region, status: .online, reportedInflight: existing?.reportedInflight ?? 0,
            metadata: existing?.metadata ?? [:], registeredAt: now, lastSeenAt: now)
        do {
            try await save(miner)
        } catch {
            await queue.cancelMinerReservation(key)
            throw error
        }
        return miner
    }

    /// Records a heartbeat: the miner is alive, with what it runs and its status.
    public func heartbeat(
        minerID: String?, inflight: Int?, status: String?, metadata: [String: JSONValue]?, by caller: Principal
    ) async throws -> Miner {
        try caller.require(.minersWrite)
        if let metadata, try JobRules.canonical(metadata).count > settings.maximumCapabilitiesBytes {
            throw JobRules.tooLarge("metadata", limit: settings.maximumCapabilitiesBytes)
        }
        var miner = try await resolveMiner(minerID, for: caller)
        miner.lastSeenAt = time.now()
        if let inflight { miner.reportedInflight = max(0, inflight) }
        if let metadata { miner.metadata = metadata }
        switch status?.uppercased() {
        case "DRAINING": miner.status = .draining
        case "OFFLINE": miner.status = .offline
        default: if miner.status == .offline { miner.status = .online }
        }
        try await save(miner)
        // A miner that says it is going away runs nothing any more: its jobs go back to the queue now.
        if miner.status == .offline {
            await committer.requeueRunningJobs(of: MinerKey(tenantID: miner.tenantID, minerID: miner.id))
        }
        return miner
    }

    /// Releases a miner id so that another key may register it: its running jobs go back to the
    /// queue and its waiting polls end. Its own key, or a master or operator of the tenant, may.
    /// Returns how many running jobs went back to the queue.
    public func release(minerID: String, by caller: Principal) async throws -> Int {
        try caller.require(.minersWrite)
        let tenantID = caller.actingTenantID ?? caller.key.tenantID
        let key = MinerKey(tenantID: tenantID, minerID: try JobRules.validMinerID(minerID))
        guard let miner = try await knownMiner(key) else {
            throw CoordinatorError.notFound(.minerNotFound, "No such miner")
        }
        guard miner.keyID == caller.key.id || caller.key.role == .master || caller.isOperator else {
            throw JobRules.minerNotOwned(key.minerID)
        }
        guard let requeued = try await storageCall({ try await committer.release(key) }) else {
            throw CoordinatorError.notFound(.minerNotFound, "No such miner")
        }
        logger.notice("miner released", metadata: ["tenant_id": .string(key.tenantID), "miner_id": .string(key.minerID)])
        return requeued
    }

    /// Stops a miner from receiving new jobs; it finishes what it runs.
    public func drain(minerID: String?, by caller: Principal) async throws -> Miner {
        try caller.require(.minersWrite)
        var miner = try await resolveMiner(minerID, for: caller)
        miner.status = .draining
        miner.lastSeenAt = time.now()
        try await save(miner)
        return miner
    }

    /// The miner `key` as this instance knows it now (from memory), if it does.
    public func miner(_ key: MinerKey) async -> Miner? {
        await queue.miner(key)
    }

    /// How many jobs the miner `key` runs now, as this instance counts them.
    public func runningCount(of key: MinerKey) async -> Int {
        await queue.runningCount(key)
    }

    /// How many polls are waiting for a job on this instance now.
    public func waitingPolls() async -> Int {
        await queue.waitingPolls()
    }

    /// Stops handing out jobs (the server is shutting down): every waiting poll answers "nothing"
    /// now, and later polls at once; jobs stay queued in storage for the next start.
    public func stopHandingOutJobs() async {
        await queue.drain()
    }
}

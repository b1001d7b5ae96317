/// Storage of the miners that hold ids in their tenant.
public protocol MinerStore: Sendable {
    /// Creates or replaces a miner unless its id is held by another key; false (nothing written) then.
    func upsertMiner(_ miner: Miner) async throws -> Bool
    /// Forgets a miner (released); false if there was none.
    func deleteMiner(tenantID: String, id: String) async throws -> Bool
    /// Every miner of every tenant.
    func miners() async throws -> [Miner]
    /// The miner `id` of `tenantID`, if any.
    func miner(tenantID: String, id: String) async throws -> Miner?
}

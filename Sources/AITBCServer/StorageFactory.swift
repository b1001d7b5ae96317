import AITBCDomain
import AITBCStorage
import Logging
import ServiceLifecycle

/// What the storage a deployment names brings: the store, how instances sharing it talk, the
/// rate-limit authority they share (none for SQLite: one instance, limits in memory), and the
/// services that must run for the store to answer (PostgreSQL's pool, then the bus's listener; none
/// for SQLite).
struct StorageBackend {
    var store: any CoordinatorStore
    var bus: any ClusterBus
    var sharedLimit: (any SharedRateLimit)?
    /// In dependency order: each may use those before it.
    var services: [any Service] = []

}

/// Opens the storage backend that the settings name.
enum AITBCStorageFactory {
    /// Shared rate budgets run on the database's clock, unless `time` is not the system's (a test's
    /// injected clock): then on `time`'s monotonic clock, so that they refill when the test moves it.
    static func open(
        settings: CoordinatorSettings, time: any TimeSource, secrets: any SecretSource, logger: Logger
    ) async throws -> StorageBackend {
        switch try settings.storage() {
        case .sqlite(let path):
            return StorageBackend(
                store: try await SQLiteStore.open(path: path, logger: logger), bus: StandaloneBus(), sharedLimit: nil)
        case .postgres(var configuration):
            configuration.maximumConnections = settings.databaseMaxConnections
            let store = try await PostgresStore.open(configuration: configuration, logger: logger)
            let bus = PostgresClusterBus(store: store, origin: "inst_" + secrets.base62(count: 12), logger: logger)
            // The stand-in for the database's clock passes as `time` passes but, like the database's,
            // ignores this instance's wall clock being set.
            var clock: (@Sendable () -> Int64)?
            if !(time is SystemTimeSource) {
                let offset = time.now().unixNanoseconds - time.monotonicNanoseconds()
                clock = { @Sendable in offset + time.monotonicNanoseconds() }
            }
            return StorageBackend(
                store: store,
                bus: bus, sharedLimit: PostgresRateLimit(store: store, clock: clock), services: [store.database, bus])
        }
    }
}

import AITBCDomain
import AITBCStorage
import Logging

/// What the storage a deployment names brings: the store, how instances sharing it talk, and the
/// rate-limit authority they share (none for SQLite: one instance, limits in memory).
struct StorageBackend {
    var store: any CoordinatorStore
    var bus: any ClusterBus
    var sharedLimit: (any SharedRateLimit)?
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
            // The stand-in for the database's clock passes as `time` passes but, like the database's,
            // ignores this instance's wall clock being set.
            var clock: (@Sendable () -> Int64)?
            if !(time is SystemTimeSource) {
                let offset = time.now().unixNanoseconds - time.monotonicNanoseconds()
                clock = { @Sendable in offset + time.monotonicNanoseconds() }
            }
            return StorageBackend(
                store: store,
                bus: PostgresClusterBus(store: store, origin: "inst_" + secrets.base62(count: 12), logger: logger),
                sharedLimit: PostgresRateLimit(store: store, clock: clock))
        }
    }
}

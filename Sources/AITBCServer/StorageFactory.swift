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
    static func open(settings: CoordinatorSettings, secrets: any SecretSource, logger: Logger) async throws -> StorageBackend {
        switch try settings.storage() {
        case .sqlite(let path):
            return StorageBackend(
                store: try await SQLiteStore.open(path: path, logger: logger), bus: StandaloneBus(), sharedLimit: nil)
        case .postgres(var configuration):
            configuration.maximumConnections = settings.databaseMaxConnections
            let store = try await PostgresStore.open(configuration: configuration, logger: logger)
            return StorageBackend(
                store: store,
                bus: PostgresClusterBus(store: store, origin: "inst_" + secrets.base62(count: 12), logger: logger),
                sharedLimit: PostgresRateLimit(store: store))
        }
    }
}

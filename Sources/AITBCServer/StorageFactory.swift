import AITBCDomain
import AITBCStorage
import Logging

/// Opens the storage backend that the settings name.
enum AITBCStorageFactory {
    static func open(settings: CoordinatorSettings, logger: Logger) async throws -> any CoordinatorStore {
        switch try settings.storage() {
        case .sqlite(let path):
            return try await SQLiteStore.open(path: path, logger: logger)
        case .postgres(var configuration):
            configuration.maximumConnections = settings.databaseMaxConnections
            return try await PostgresStore.open(configuration: configuration, logger: logger)
        }
    }
}

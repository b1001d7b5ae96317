import AITBCDomain
import AITBCStorage
import Logging

/// Opens the storage backend that the settings name.
enum AITBCStorageFactory {
    static func open(settings: CoordinatorSettings, logger: Logger) async throws -> any CoordinatorStore {
        try await SQLiteStore.open(path: try settings.sqlitePath(), logger: logger)
    }
}

/// The one error a store throws when an operation did not happen: both backends translate their
/// driver's failures into it, and the domain answers it (see ``coordinatorError``).
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The backend cannot do the operation now (unreachable, refusing, failing); nothing was written.
    case unavailable
    /// The backend cannot hold a text value the caller sent (PostgreSQL text cannot hold U+0000,
    /// SQLite's can): the request is at fault, and nothing was written.
    case unstorableText

    public var description: String {
        switch self {
        case .unavailable: "storage unavailable"
        case .unstorableText: "text with NUL (U+0000) cannot be stored"
        }
    }

    /// What the domain answers: 503 `STORAGE_UNAVAILABLE`, or 400 for text the backend cannot store.
    public var coordinatorError: CoordinatorError {
        switch self {
        case .unavailable:
            CoordinatorError.storageUnavailable
        case .unstorableText:
            CoordinatorError.invalidRequest("Text fields must not contain NUL (U+0000) characters")
        }
    }
}

/// Runs a storage call, turning its failure into the domain's answer: a ``StorageError`` as it says,
/// anything else (a store that does not translate) as 503 `STORAGE_UNAVAILABLE`. A failed write did
/// not happen.
func storageCall<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as CoordinatorError {
        throw error
    } catch let error as StorageError {
        throw error.coordinatorError
    } catch {
        throw CoordinatorError.storageUnavailable
    }
}

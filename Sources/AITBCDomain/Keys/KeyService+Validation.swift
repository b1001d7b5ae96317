import AITBCWire
import Foundation

/// The rules a key's fields must keep: a name, scopes within the role, a positive limit, small metadata.
extension KeyService {
    /// `raw` without surrounding space, 1 … 200 characters, else 400 naming `name`.
    static func validName(_ raw: String) throws -> String {
        let name = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.count <= 200 else {
            throw CoordinatorError.invalidField("name", "name must be 1 … 200 characters")
        }
        return name
    }

    /// The scopes of a `role` key as requested: nil for all of the role's; unknown or foreign ones are 400.
    static func validScopes(_ requested: [String]?, for role: Role) throws -> Set<Permission>? {
        guard let requested else { return nil }
        var parsed = Set<Permission>()
        for raw in requested {
            let permission = Permission(rawValue: raw)
            guard Permission.all.contains(permission) else {
                throw CoordinatorError.invalidField("scopes", "Unknown scope \(raw.prefix(64))")
            }
            guard role.permissions.contains(permission) else {
                throw CoordinatorError.invalidField("scopes", "A \(role.rawValue) key cannot hold \(raw)")
            }
            parsed.insert(permission)
        }
        guard !parsed.isEmpty else { throw CoordinatorError.invalidField("scopes", "scopes must not be empty") }
        return parsed
    }

    static func validate(rateLimitPerMinute limit: Int) throws {
        guard (1...1_000_000).contains(limit) else {
            throw CoordinatorError.invalidField("rate_limit_per_minute", "rate_limit_per_minute must be 1 … 1000000")
        }
    }

    static func validate(metadata: [String: JSONValue]) throws {
        guard metadata.count <= 50 else {
            throw CoordinatorError.invalidField("metadata", "metadata may hold at most 50 entries")
        }
        let size = (try? JSONEncoder().encode(metadata).count) ?? .max
        guard size <= 8192 else {
            throw CoordinatorError.invalidField("metadata", "metadata must encode to at most 8 KiB of JSON")
        }
    }
}

import AITBCWire

/// The `allowed_ips` of a key as a caller sends them: validated, canonical, or cleared.
extension KeyService {
    /// The list `requested` asks for: nil or `[]` for none, else every entry valid (400 naming `allowed_ips`).
    static func allowedIPs(_ requested: [String]?) throws -> IPAllowList? {
        guard let requested, !requested.isEmpty else { return nil }
        do {
            return try IPAllowList(parsing: requested)
        } catch {
            throw CoordinatorError.invalidField("allowed_ips", error.description)
        }
    }

    /// The list of a new key: `inherited` (the creator's) when the request leaves the field out (or
    /// null), so a key made by a narrowed key is narrowed alike; `[]` asks for none; else as ``allowedIPs(_:)``.
    static func allowedIPs(_ requested: [String]?, inheriting inherited: IPAllowList?) throws -> IPAllowList? {
        guard let requested else { return inherited }
        return try allowedIPs(requested)
    }

    /// The list as audit events record it.
    static func auditValue(_ list: IPAllowList) -> JSONValue {
        .array(list.entries.map { .string($0) })
    }
}

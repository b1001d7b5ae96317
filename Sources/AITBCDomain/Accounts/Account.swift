import Foundation

/// A person who signs in to the dashboard. An account owns one tenant and acts in it as a master key would.
public struct Account: Sendable, Equatable {
    public var id: String
    /// Lower-cased and trimmed; unique across the deployment.
    public var email: String
    /// The password hasher's output (bcrypt); never the password.
    public var passwordHash: String
    public var tenantID: String
    public var createdAt: Date

    public init(id: String, email: String, passwordHash: String, tenantID: String, createdAt: Date) {
        self.id = id
        self.email = email
        self.passwordHash = passwordHash
        self.tenantID = tenantID
        self.createdAt = createdAt
    }

    /// `raw` as the stored form of an email address, or nil if it is not one.
    ///
    /// The check is deliberately loose (one `@`, something on each side, a dot in the domain, no spaces):
    /// the only proof an address works is mail reaching it.
    public static func normalizedEmail(_ raw: String) -> String? {
        let email = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard email.utf8.count <= 254, parts.count == 2, !parts[0].isEmpty, parts[1].contains("."),
            !parts[1].hasPrefix("."), !parts[1].hasSuffix("."),
            !email.contains(where: { $0.isWhitespace || $0.isNewline || $0 == "<" || $0 == ">" })
        else { return nil }
        return email
    }
}

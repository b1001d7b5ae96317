import Crypto
import Foundation

/// A signed-in browser. The cookie carries a random token; only its SHA-256 digest is stored, so a
/// copy of the database cannot be used to sign in. Deleting the row signs the browser out.
public struct DashboardSession: Sendable, Equatable {
    /// SHA-256 of the token in the cookie.
    public var digest: [UInt8]
    public var accountID: String
    /// The token every form of this session must carry (cross-site request forgery protection).
    public var csrfToken: String
    public var createdAt: Date
    public var expiresAt: Date

    public init(digest: [UInt8], accountID: String, csrfToken: String, createdAt: Date, expiresAt: Date) {
        self.digest = digest
        self.accountID = accountID
        self.csrfToken = csrfToken
        self.createdAt = createdAt
        self.expiresAt = expiresAt
    }

    /// The digest under which the session of cookie value `token` is stored.
    public static func digest(of token: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(token.utf8)))
    }
}

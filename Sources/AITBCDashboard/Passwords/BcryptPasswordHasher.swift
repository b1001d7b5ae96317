import AITBCDomain
import Crypto
import Foundation
import HummingbirdBcrypt

/// bcrypt (from hummingbird-auth) on a ``PasswordHashingPool``: never on an event loop, never on the
/// threads storage uses, and refused at once when too many hashes wait.
///
/// bcrypt reads at most 72 bytes, so the password is first reduced to the Base64 of its SHA-256: every
/// byte of a long passphrase counts, and the input has no NUL bytes.
public struct BcryptPasswordHasher: PasswordHasher {
    /// log2 of the work; 12 takes about a quarter of a second on one core.
    public let cost: UInt8
    let pool: PasswordHashingPool

    public init(cost: UInt8 = 12, pool: PasswordHashingPool) {
        self.cost = cost
        self.pool = pool
    }

    public func hash(_ password: String) async throws -> String {
        let input = Self.prehashed(password)
        let cost = self.cost
        return try await pool.run { Bcrypt.hash(input, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        let input = Self.prehashed(password)
        return try await pool.run { Bcrypt.verify(input, hash: hash) }
    }

    static func prehashed(_ password: String) -> String {
        Data(SHA256.hash(data: Array(password.utf8))).base64EncodedString()
    }
}

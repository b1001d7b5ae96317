import AITBCDomain
import Crypto
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// bcrypt (from hummingbird-auth) on a thread pool, so a sign-in never blocks an event loop.
///
/// bcrypt reads at most 72 bytes, so the password is first reduced to the Base64 of its SHA-256: every
/// byte of a long passphrase counts, and the input has no NUL bytes.
public struct BcryptPasswordHasher: PasswordHasher {
    /// log2 of the work; 12 takes about a quarter of a second on one core.
    public let cost: UInt8

    public init(cost: UInt8 = 12) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let input = Self.prehashed(password)
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(input, cost: cost) }
    }

    public func verify(_ password: String, against hash: String) async throws -> Bool {
        let input = Self.prehashed(password)
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(input, hash: hash) }
    }

    static func prehashed(_ password: String) -> String {
        Data(SHA256.hash(data: Array(password.utf8))).base64EncodedString()
    }
}

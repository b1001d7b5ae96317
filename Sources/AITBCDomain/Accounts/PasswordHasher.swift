import AITBCWire

/// Turns passwords into slow, salted hashes and checks them; injected so the domain does not pick
/// the algorithm (the dashboard uses bcrypt) and tests can make it cheap.
///
/// Hashing runs on threads of its own with a bounded queue: when it is full, both calls throw
/// ``CoordinatorError/passwordHashingBusy`` at once instead of waiting.
public protocol PasswordHasher: Sendable {
    func hash(_ password: String) async throws -> String
    func verify(_ password: String, against hash: String) async throws -> Bool
}

extension CoordinatorError {
    /// 429 `RATE_LIMIT_EXCEEDED`: every password-hashing thread is busy and its queue is full.
    public static let passwordHashingBusy = CoordinatorError.rateLimited(
        retryAfter: 1, "Too many sign-ins are being checked right now; try again in a second",
        details: ["bound": .string("password_hashing"), "retry_after_seconds": .int(1)])

    /// 503 `DRAINING`: the server is shutting down and hashes no more passwords.
    public static let passwordHashingStopped = CoordinatorError.draining
}

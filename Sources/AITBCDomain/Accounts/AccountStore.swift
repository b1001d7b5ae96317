import Foundation

/// Storage of dashboard accounts and their sessions. Every write is durable when the call returns.
public protocol AccountStore: Sendable {
    /// Creates an account with its new tenant and first master key, and their audit events, in one
    /// transaction; false (nothing written) if the email is taken.
    func insertAccount(_ account: Account, tenant: Tenant, masterKey: APIKeyRecord, events: [AuditEvent]) async throws
        -> Bool
    /// The account signed up with `email` (in its stored form), if any.
    func account(email: String) async throws -> Account?
    /// The account `id`, if any.
    func account(id: String) async throws -> Account?

    /// Stores a new session.
    func insertSession(_ session: DashboardSession) async throws
    /// The session whose token has `digest`, if any.
    func session(digest: [UInt8]) async throws -> DashboardSession?
    /// Signs one browser out.
    func deleteSession(digest: [UInt8]) async throws
    /// Signs an account out everywhere.
    func deleteSessions(accountID: String) async throws
    /// Forgets sessions that expired before `now`.
    func deleteSessions(expiredBefore now: Date) async throws
}

import Foundation

/// Storage of dashboard accounts and their sessions. Every write is durable when the call returns.
public protocol AccountStore: Sendable {
    /// Creates an account with its new tenant and first master key, and their audit events, in one
    /// transaction; false (nothing written) if the email is taken.
    func insertAccount(_ account: Account, tenant: Tenant, masterKey: APIKeyRecord, events: [AuditEvent]) async throws
        -> Bool
    func account(email: String) async throws -> Account?
    func account(id: String) async throws -> Account?

    func insertSession(_ session: DashboardSession) async throws
    func session(digest: [UInt8]) async throws -> DashboardSession?
    func deleteSession(digest: [UInt8]) async throws
    /// Signs an account out everywhere.
    func deleteSessions(accountID: String) async throws
    /// Forgets sessions that expired before `now`.
    func deleteSessions(expiredBefore now: Date) async throws
}

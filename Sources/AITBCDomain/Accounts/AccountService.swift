import AITBCWire
import Foundation
import Synchronization

/// A session handed to a browser: the cookie value (shown once, never stored) and what is stored.
public struct IssuedSession: Sendable {
    public var token: String
    public var session: DashboardSession
}

/// What signing up creates: the account, its first session, and its tenant's first master key.
public struct SignUp: Sendable {
    public var account: Account
    public var session: IssuedSession
    public var masterKey: IssuedKey
    /// The new account acting in its tenant.
    public var principal: Principal
}

/// A signed-in browser's account and session, and the principal it acts as.
public struct SignedIn: Sendable {
    public var account: Account
    public var session: DashboardSession
    public var principal: Principal

    public init(account: Account, session: DashboardSession, principal: Principal) {
        self.account = account
        self.session = session
        self.principal = principal
    }
}

/// Dashboard accounts: sign up, sign in, sessions, sign out. An account owns one tenant and manages its
/// keys through ``KeyService`` with a master's rights, so the API and the dashboard act on the same keys.
///
/// Sign-in attempts are throttled per email address and per client address (an IPv6 client's /64) before
/// any password is checked, so guessing is slow; the hasher runs on threads of its own with a bounded
/// queue, so a flood from many addresses still cannot take the CPU or the storage threads from others.
public struct AccountService: Sendable {
    public static let minimumPasswordLength = 12
    public static let maximumPasswordLength = 1024
    /// A session ends this long after sign-in, or at sign-out.
    public static let sessionLifetime: TimeInterval = 12 * 3600
    /// Sign-in attempts per email address: a burst of 5, then one every 12 s.
    public static let attemptsPerAccountPerMinute = 5
    /// Sign-in and sign-up attempts per client address: a burst of 20, then one every 3 s.
    public static let attemptsPerAddressPerMinute = 20
    /// The plan of a tenant created by signing up.
    public static let signUpPlan = "free"

    let store: any AccountStore
    let authenticator: KeyAuthenticator
    let keys: KeyService
    let hasher: any PasswordHasher
    let time: any TimeSource
    let secrets: any SecretSource
    let attempts: AttemptBudgets
    private let decoy = DecoyHash()

    public init(
        store: any AccountStore, authenticator: KeyAuthenticator, keys: KeyService, hasher: any PasswordHasher,
        time: any TimeSource, secrets: any SecretSource, attempts: AttemptBudgets = AttemptBudgets()
    ) {
        self.store = store
        self.authenticator = authenticator
        self.keys = keys
        self.hasher = hasher
        self.time = time
        self.secrets = secrets
        self.attempts = attempts
    }

    public var plans: PlanTable { authenticator.plans }

    /// Creates an account, a tenant on the free plan that it owns, the tenant's first master key, and a session.
    /// `address` is the client's throttle key (its address; for IPv6 its /64).
    public func signUp(email rawEmail: String, password: String, from address: String?) async throws -> SignUp {
        guard let email = Account.normalizedEmail(rawEmail) else {
            throw CoordinatorError.invalidField("email", "Enter an email address like name@example.com")
        }
        try Self.validate(newPassword: password)
        let now = time.now()
        try await throttle(account: nil, address: address, now: now)
        if try await storageCall({ try await store.account(email: email) }) != nil { throw Self.emailTaken }
        let hash = try await hasher.hash(password)

        let tenant = Tenant(
            id: "ten_" + secrets.base62(count: 16), name: email, plan: Self.signUpPlan, createdAt: now)
        let account = Account(
            id: "acct_" + secrets.base62(count: 20), email: email, passwordHash: hash, tenantID: tenant.id,
            createdAt: now)
        let master = keys.issue(role: .master, name: "Initial master key", tenantID: tenant.id, at: now)
        let events = [
            keys.makeEvent(.accountCreated, tenantID: tenant.id, actor: account.id, target: account.id, at: now),
            keys.makeEvent(
                .tenantCreated, tenantID: tenant.id, actor: account.id, target: tenant.id, at: now,
                data: ["plan": .string(tenant.plan)]),
            keys.makeEvent(
                .keyCreated, tenantID: tenant.id, actor: account.id, target: master.record.id, at: now,
                data: ["name": .string(master.record.name), "role": .string(Role.master.rawValue)]),
        ]
        guard
            try await storageCall({
                try await store.insertAccount(account, tenant: tenant, masterKey: master.record, events: events)
            })
        else { throw Self.emailTaken }
        authenticator.remember(tenant)
        authenticator.remember(master.record)
        let session = try await startSession(for: account, at: now)
        return SignUp(
            account: account, session: session, masterKey: master, principal: principal(for: account, in: tenant))
    }

    /// Checks an email and password and starts a session. Unknown emails and wrong passwords get the same
    /// answer after the same work, so the form does not tell which emails have accounts. `address` is the
    /// client's throttle key (its address; for IPv6 its /64).
    public func signIn(email rawEmail: String, password: String, from address: String?) async throws -> IssuedSession {
        let email = Account.normalizedEmail(rawEmail)
        let now = time.now()
        try await throttle(account: email ?? rawEmail.lowercased(), address: address, now: now)
        guard let email, password.utf8.count <= Self.maximumPasswordLength,
            let account = try await storageCall({ try await store.account(email: email) })
        else {
            _ = try await hasher.verify(password, against: decoyHash())
            throw Self.wrongCredentials
        }
        guard try await hasher.verify(password, against: account.passwordHash) else { throw Self.wrongCredentials }
        try await storageCall { try await store.deleteSessions(expiredBefore: now) }
        return try await startSession(for: account, at: now)
    }

    /// The account and session of cookie value `token`, or nil if it names no live session.
    public func signedIn(token: String) async throws -> SignedIn? {
        guard !token.isEmpty, token.utf8.count <= 128 else { return nil }
        let digest = DashboardSession.digest(of: token)
        guard let session = try await storageCall({ try await store.session(digest: digest) }) else { return nil }
        guard session.expiresAt > time.now() else {
            try await storageCall { try await store.deleteSession(digest: digest) }
            return nil
        }
        guard let account = try await storageCall({ try await store.account(id: session.accountID) }),
            let tenant = try await authenticator.tenant(id: account.tenantID)
        else { return nil }
        return SignedIn(account: account, session: session, principal: principal(for: account, in: tenant))
    }

    /// Ends the session of cookie value `token`; from the moment this returns, the cookie is worthless.
    public func signOut(token: String) async throws {
        try await storageCall { try await store.deleteSession(digest: DashboardSession.digest(of: token)) }
    }

    /// Ends every session of `accountID`.
    public func signOutEverywhere(accountID: String) async throws {
        try await storageCall { try await store.deleteSessions(accountID: accountID) }
    }

    /// The account acting as a master key of its tenant; audit events name the account as the actor.
    func principal(for account: Account, in tenant: Tenant) -> Principal {
        let actor = APIKeyRecord(
            id: account.id, tenantID: tenant.id, name: account.email, role: .master, scopes: nil,
            digest: APIKeyDigest(of: account.id), hint: "", createdAt: account.createdAt)
        return Principal(key: actor, tenant: tenant, tenantLimit: plans.effectiveLimit(for: tenant))
    }

    // MARK: rules

    static let emailTaken = CoordinatorError.conflictState(
        "An account with this email already exists; sign in instead",
        details: ["field": .string("email")])
    static let wrongCredentials = CoordinatorError(
        .unauthorized, code: .invalidCredentials, message: "The email or password is not right")

    static func validate(newPassword password: String) throws {
        guard password.count >= minimumPasswordLength else {
            throw CoordinatorError.invalidField(
                "password", "Use at least \(minimumPasswordLength) characters; a few unrelated words work well")
        }
        guard password.utf8.count <= maximumPasswordLength else {
            throw CoordinatorError.invalidField("password", "Use at most \(maximumPasswordLength) bytes")
        }
    }

    /// Charges one attempt to the email's and the address's budgets; refuses (charging neither) when one is spent.
    func throttle(account: String?, address: String?, now: Date) async throws {
        let addressBudget = (BudgetKey.signInAddress(address ?? "unknown"), Self.attemptsPerAddressPerMinute)
        let decision = await attempts.charge(
            addressBudget, account.map { (BudgetKey.signInAccount($0), Self.attemptsPerAccountPerMinute) },
            now: time.rateInstant(wall: now))
        guard decision.admitted else {
            throw CoordinatorError.rateLimited(
                retryAfter: decision.retryAfterSeconds, "Too many attempts; try again in \(decision.retryAfterSeconds) seconds")
        }
    }

    private func startSession(for account: Account, at now: Date) async throws -> IssuedSession {
        let token = secrets.base62(count: 43)
        let session = DashboardSession(
            digest: DashboardSession.digest(of: token), accountID: account.id, csrfToken: secrets.base62(count: 32),
            createdAt: now, expiresAt: now.addingTimeInterval(Self.sessionLifetime))
        try await storageCall { try await store.insertSession(session) }
        return IssuedSession(token: token, session: session)
    }

    /// A hash of a random password, so an unknown email costs as much as a wrong password.
    func decoyHash() async throws -> String {
        if let cached = decoy.hash.withLock({ $0 }) { return cached }
        let hash = try await hasher.hash(secrets.base62(count: 32))
        decoy.hash.withLock { $0 = hash }
        return hash
    }
}

/// The decoy hash, made once per service on first need.
private final class DecoyHash: Sendable {
    let hash = Mutex<String?>(nil)
}

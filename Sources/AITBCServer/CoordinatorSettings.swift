import AITBCDomain
import AITBCStorage
import Foundation
import Logging

/// Every setting of the server, read from flags and `AITBC_*` environment variables.
public struct CoordinatorSettings: Sendable {
    /// Development (`dev`, the default) or production.
    public enum Mode: String, Sendable {
        case development = "dev"
        case production
    }

    public var host = "127.0.0.1"
    public var port = 8000
    /// `sqlite:PATH`, a plain path, or `postgres://…` / `postgresql://…`.
    public var databaseURL = "sqlite:.aitbc/coordinator.sqlite"
    /// Most connections to PostgreSQL (the pool's bound).
    public var databaseMaxConnections = 10
    public var mode = Mode.development
    public var developmentPlan = "enterprise"
    public var plans = PlanTable.standard
    public var allowQueryKeys = true
    /// Treat every peer as a proxy (`AITBC_TRUST_PROXY_HEADERS`); see ``TrustedProxies/trustsEveryPeer``.
    public var trustForwardedFor = false
    public var keyCacheCapacity = 100_000
    public var keyCacheLifetimeSeconds = 30
    public var authFailuresPerMinute = 30
    /// How long an address over its failure budget waits for its 429.
    public var authTarpitMilliseconds = 1000
    public var usageFlushIntervalSeconds = 2.0
    /// Credits a job submission costs a key that has credits (`AITBC_JOB_CREDIT_COST`).
    public var jobCreditCost = 1
    public var logLevel = Logger.Level.info
    /// Job TTLs, payload and result limits, heartbeat timeout, poll cap.
    public var jobs = JobSettings()
    /// PEM certificate chain and private key; both set means HTTPS (TLS 1.2 or later).
    public var tlsCertificatePath: String?
    public var tlsKeyPath: String?
    /// Serve the dashboard under `/dashboard`.
    public var dashboardEnabled = true
    /// bcrypt cost of dashboard passwords (log2 of the work).
    public var passwordHashCost = 12
    /// Mark dashboard cookies `Secure`; nil: when the coordinator itself serves HTTPS.
    public var secureCookiesOverride: Bool?
    /// Development keys found in the environment (role → secret).
    public var developmentKeys: [Role: String] = [:]
    /// Threads that hash dashboard passwords (never the event loops or storage's threads).
    public var passwordHashThreads = 1
    /// Password hashes that may wait for a thread; one more is refused with 429.
    public var passwordHashQueue = 16
    /// Proxies whose `X-Forwarded-For` is believed (with ``trustForwardedFor``: every peer).
    public var trustedProxies: [CIDRBlock] = []
    /// How long finished jobs, usage and audit events are kept.
    public var retention = RetentionPolicy()
    /// How often the retention janitor deletes what is past its age.
    public var janitorIntervalSeconds = 300
    /// Longest a request head may take from its first byte (from the opening, for a connection's
    /// first request), and longest a request body may pause.
    public var readTimeoutSeconds = 20
    /// Longest a kept-alive connection may be silent between requests: above the 60 s a proxy in
    /// front commonly keeps idle upstream connections, so it never reuses one this side has closed.
    public var idleTimeoutSeconds = 75
    /// Longest a TLS handshake may take from the opening (with AITBC_TLS_CERT / AITBC_TLS_KEY).
    public var tlsHandshakeTimeoutSeconds = 10
    /// Most connections held open at once; beyond it new connections wait to be accepted.
    public var maximumConnections = 10_000
    /// Most long-polls waiting at once per key and per tenant (on this instance).
    public var maximumPollsPerKey = 100
    public var maximumPollsPerTenant = 1_000
    /// Serve `GET /bench/me`, an unauthenticated copy of a `GET /v1/me` answer that the benchmarks
    /// measure the cost of authentication against (never in production).
    public var benchmarkRoutes = false
    /// The Ed25519 seed receipts are signed with; nil: the key generated once and kept in storage.
    public var receiptSigningSeed: ReceiptSigningSeed?
    /// Webhook retries, time limits and allowed targets (`CoordinatorSettings+Webhooks.swift`).
    public var webhooks = WebhookSettings()
    /// Shut down once this process is no longer the parent (`AITBC_PARENT_PID`, for test harnesses).
    public var parentProcessID: Int32?

    public init() {}

    /// The settings table `--help` prints: variable, default, meaning.
    public static let documentation: [(variable: String, defaultValue: String, meaning: String)] = [
        ("AITBC_HOST", "127.0.0.1", "address to listen on"),
        ("AITBC_PORT", "8000", "port to listen on"),
        (
            "AITBC_DATABASE_URL", "sqlite:.aitbc/coordinator.sqlite",
            "storage: sqlite:PATH (embedded), or postgres://USER:PASSWORD@HOST:PORT/DATABASE with optional "
                + "sslmode=disable|prefer|require|verify-ca|verify-full, sslrootcert=PATH, connect_timeout=S (2), query_timeout=S (5)"
        ),
        ("AITBC_DATABASE_MAX_CONNECTIONS", "10", "most connections to PostgreSQL"),
        ("AITBC_TLS_CERT", "(none)", "PEM certificate chain: with AITBC_TLS_KEY, serve HTTPS (TLS 1.2+)"),
        ("AITBC_TLS_KEY", "(none)", "PEM private key of AITBC_TLS_CERT"),
        ("AITBC_ENV", "dev", "dev: development keys allowed; production: refused at start"),
        ("AITBC_DEV_PLAN", "enterprise", "plan of test-tenant in dev mode"),
        (
            "AITBC_PLANS", "free=60,pro=600,enterprise=6000",
            "plans and their requests per minute, each with optional request quotas per UTC day/month: pro=600/day:10000/month:200000"
        ),
        ("AITBC_JOB_CREDIT_COST", "1", "credits a job submission costs a key with credits, 1 … 1000000 (any other request costs 1)"),
        ("AITBC_ALLOW_QUERY_KEYS", "true", "accept ?api_key= (false: only headers)"),
        (
            "AITBC_TRUST_PROXY_HEADERS", "false",
            "treat every peer as a proxy: the client is the rightmost X-Forwarded-For entry (outside AITBC_TRUSTED_PROXIES)"
        ),
        ("AITBC_KEY_CACHE_SIZE", "100000", "keys held in the in-memory authentication cache"),
        ("AITBC_KEY_CACHE_TTL_SECONDS", "30", "seconds a cached key is trusted before storage is asked again"),
        ("AITBC_AUTH_FAILURES_PER_MINUTE", "30", "failed authentications per client address before 429"),
        ("AITBC_AUTH_TARPIT_MS", "1000", "delay before the 429 of an address over its failure budget"),
        ("AITBC_USAGE_FLUSH_SECONDS", "2", "how often usage counters are written to storage"),
        ("AITBC_LOG_LEVEL", "info", "trace, debug, info, notice, warning, error, critical"),
        ("AITBC_MINER_HEARTBEAT_TIMEOUT_SECONDS", "60", "a miner silent this long goes OFFLINE; its jobs are requeued"),
        ("AITBC_MAX_POLL_WAIT_SECONDS", "60", "longest a miner's long-poll may wait"),
        (
            "AITBC_PLAN_QUOTAS", JobQuotaTable.standard.text,
            "per plan: queued jobs / running jobs / miners a tenant may have (over it: 429 JOB_QUOTA_EXCEEDED)"
        ),
        ("AITBC_MAX_CONSTRAINTS_BYTES", "16384", "largest constraints of a job, in bytes of JSON (over it: 413)"),
        ("AITBC_MAX_CAPABILITIES_BYTES", "16384", "largest miner capabilities and heartbeat metadata, in bytes of JSON (413)"),
        ("AITBC_FORGET_MINERS_AFTER_SECONDS", "604800", "an OFFLINE miner unseen this long is forgotten and its id freed"),
        ("AITBC_DASHBOARD", "true", "serve the dashboard (sign-up, API keys, usage) under /dashboard"),
        ("AITBC_BCRYPT_COST", "12", "bcrypt cost of dashboard passwords, 4 … 16"),
        ("AITBC_SECURE_COOKIES", "(auto)", "mark dashboard cookies Secure; default: when serving HTTPS (set true behind a TLS proxy)"),
        ("AITBC_PASSWORD_HASH_THREADS", "1", "threads that hash dashboard passwords, 1 … 64 (their own: never the event loops or storage's)"),
        ("AITBC_PASSWORD_HASH_QUEUE", "16", "password hashes that may wait for a thread, 0 … 10000; more get 429 at once"),
        (
            "AITBC_TRUSTED_PROXIES", "(none)",
            "CIDRs of your proxies (10.0.0.0/8,2001:db8::/32): behind them the client is the rightmost "
                + "X-Forwarded-For entry outside the list"
        ),
        ("AITBC_RETAIN_FINISHED_JOBS_DAYS", "30", "days a finished job (payload, result, receipt) is kept, 1 … 36500"),
        ("AITBC_RETAIN_AUDIT_DAYS", "400", "days audit events are kept, 1 … 36500"),
        (
            "AITBC_RETAIN_USAGE_MINUTES_HOURS", "48",
            "hours usage is kept per minute before it is rolled into hours, 25 … 8760"
        ),
        ("AITBC_RETAIN_USAGE_HOURS_DAYS", "400", "days usage is kept per hour, 1 … 36500 (not less than the minutes)"),
        (
            "AITBC_JANITOR_INTERVAL_SECONDS", "300",
            "how often expired data is deleted (in batches; idempotency keys after 24 h, sessions at expiry)"
        ),
        (
            "AITBC_READ_TIMEOUT_SECONDS", "20",
            "a request head must be complete this long after its first byte (a new connection's first, after the opening); "
                + "a body may pause this long; a request being answered (a long-poll) has no read deadline"
        ),
        (
            "AITBC_IDLE_TIMEOUT_SECONDS", "75",
            "a kept-alive connection silent this long between requests is closed; keep it above the idle timeout of a proxy in front"
        ),
        ("AITBC_TLS_HANDSHAKE_TIMEOUT_SECONDS", "10", "a TLS handshake not complete this long after the opening is closed"),
        ("AITBC_MAX_CONNECTIONS", "10000", "open connections at most; beyond it new ones wait in the listen backlog"),
        ("AITBC_MAX_POLLS_PER_KEY", "100", "long-polls one key may have waiting at once; beyond it 429 RATE_LIMIT_EXCEEDED"),
        ("AITBC_RECEIPT_SIGNING_KEY_HEX", "(generated)", "Ed25519 seed receipts are signed with, 64 hex digits; unset: generated once, kept in storage"),
        ("AITBC_MAX_POLLS_PER_TENANT", "1000", "long-polls one tenant may have waiting at once; beyond it 429 RATE_LIMIT_EXCEEDED"),
        (
            "AITBC_BENCHMARK_ROUTES", "false",
            "serve GET /bench/me and /bench/me-limited: the bytes and headers of the development client key's GET /v1/me and of bench/run.sh's limited key's, without a key (bench/run.sh); refused in production"
        ),
    ] + webhookDocumentation + webhookRetentionDocumentation + parentWatchDocumentation

    /// A problem with a setting, reported before the server starts.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads the `AITBC_*` variables (and the development key variables) from `environment`.
    public static func fromEnvironment(_ environment: [String: String]) throws -> CoordinatorSettings {
        var settings = CoordinatorSettings()
        func value(_ name: String) -> String? {
            environment[name].flatMap { $0.isEmpty ? nil : $0 }
        }
        func integer(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw Invalid(description: "\(name) must be an integer \(range.lowerBound) … \(range.upperBound), got \(raw)")
            }
            return number
        }
        func boolean(_ name: String) throws -> Bool? {
            guard let raw = value(name)?.lowercased() else { return nil }
            switch raw {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw Invalid(description: "\(name) must be true or false, got \(raw)")
            }
        }
        if let host = value("AITBC_HOST") { settings.host = host }
        if let port = try integer("AITBC_PORT", 0...65535) { settings.port = port }
        if let url = value("AITBC_DATABASE_URL") { settings.databaseURL = url }
        if let count = try integer("AITBC_DATABASE_MAX_CONNECTIONS", 1...1000) { settings.databaseMaxConnections = count }
        settings.tlsCertificatePath = value("AITBC_TLS_CERT")
        settings.tlsKeyPath = value("AITBC_TLS_KEY")
        if let raw = value("AITBC_ENV") {
            switch raw.lowercased() {
            case "dev", "development": settings.mode = .development
            case "prod", "production": settings.mode = .production
            default: throw Invalid(description: "AITBC_ENV must be dev or production, got \(raw)")
            }
        }
        if let raw = value("AITBC_PLANS") {
            guard let plans = PlanTable(parsing: raw) else {
                throw Invalid(
                    description: "AITBC_PLANS must look like free=60,pro=600,enterprise=6000 (quotas: pro=600/day:10000/month:200000)")
            }
            settings.plans = plans
        }
        if let plan = value("AITBC_DEV_PLAN") { settings.developmentPlan = plan }
        if let allow = try boolean("AITBC_ALLOW_QUERY_KEYS") { settings.allowQueryKeys = allow }
        if let trust = try boolean("AITBC_TRUST_PROXY_HEADERS") { settings.trustForwardedFor = trust }
        if let size = try integer("AITBC_KEY_CACHE_SIZE", 16...100_000_000) { settings.keyCacheCapacity = size }
        if let ttl = try integer("AITBC_KEY_CACHE_TTL_SECONDS", 1...3600) { settings.keyCacheLifetimeSeconds = ttl }
        if let failures = try integer("AITBC_AUTH_FAILURES_PER_MINUTE", 1...1_000_000) {
            settings.authFailuresPerMinute = failures
        }
        if let tarpit = try integer("AITBC_AUTH_TARPIT_MS", 0...60_000) { settings.authTarpitMilliseconds = tarpit }
        if let raw = value("AITBC_USAGE_FLUSH_SECONDS") {
            guard let seconds = Double(raw), seconds > 0, seconds <= 3600 else {
                throw Invalid(description: "AITBC_USAGE_FLUSH_SECONDS must be a number of seconds 0 … 3600")
            }
            settings.usageFlushIntervalSeconds = seconds
        }
        if let raw = value("AITBC_LOG_LEVEL") {
            guard let level = Logger.Level(rawValue: raw.lowercased()) else {
                throw Invalid(description: "AITBC_LOG_LEVEL must be one of trace, debug, info, notice, warning, error, critical")
            }
            settings.logLevel = level
        }
        if let timeout = try integer("AITBC_MINER_HEARTBEAT_TIMEOUT_SECONDS", 1...86400) {
            settings.jobs.heartbeatTimeoutSeconds = timeout
        }
        if let wait = try integer("AITBC_MAX_POLL_WAIT_SECONDS", 1...600) { settings.jobs.maximumPollWaitSeconds = Double(wait) }
        if let raw = value("AITBC_PLAN_QUOTAS") {
            guard let quotas = JobQuotaTable(parsing: raw) else {
                throw Invalid(description: "AITBC_PLAN_QUOTAS must look like free=20/4/5,pro=1000/100/100 (queued/running/miners)")
            }
            settings.jobs.quotas = quotas
        }
        if let bytes = try integer("AITBC_MAX_CONSTRAINTS_BYTES", 256...1_048_576) { settings.jobs.maximumConstraintsBytes = bytes }
        if let bytes = try integer("AITBC_MAX_CAPABILITIES_BYTES", 256...1_048_576) { settings.jobs.maximumCapabilitiesBytes = bytes }
        if let seconds = try integer("AITBC_FORGET_MINERS_AFTER_SECONDS", 60...31_536_000) {
            settings.jobs.forgetMinersAfterSeconds = seconds
        }
        if let enabled = try boolean("AITBC_DASHBOARD") { settings.dashboardEnabled = enabled }
        if let cost = try integer("AITBC_BCRYPT_COST", 4...16) { settings.passwordHashCost = cost }
        settings.secureCookiesOverride = try boolean("AITBC_SECURE_COOKIES")
        if let threads = try integer("AITBC_PASSWORD_HASH_THREADS", 1...64) { settings.passwordHashThreads = threads }
        if let queue = try integer("AITBC_PASSWORD_HASH_QUEUE", 0...10_000) { settings.passwordHashQueue = queue }
        if let list = value("AITBC_TRUSTED_PROXIES") {
            do {
                settings.trustedProxies = try TrustedProxies(parsing: list).blocks
            } catch {
                throw Invalid(description: "AITBC_TRUSTED_PROXIES: \(error)")
            }
        }
        if let days = try integer("AITBC_RETAIN_FINISHED_JOBS_DAYS", 1...36500) { settings.retention.finishedJobsDays = days }
        if let days = try integer("AITBC_RETAIN_AUDIT_DAYS", 1...36500) { settings.retention.auditEventsDays = days }
        if let hours = try integer("AITBC_RETAIN_USAGE_MINUTES_HOURS", RetentionPolicy.minimumUsageMinutesHours...8760) {
            settings.retention.usageMinutesHours = hours
        }
        if let days = try integer("AITBC_RETAIN_USAGE_HOURS_DAYS", 1...36500) { settings.retention.usageHoursDays = days }
        if let seconds = try integer("AITBC_JANITOR_INTERVAL_SECONDS", 1...86400) { settings.janitorIntervalSeconds = seconds }
        for (variable, role) in StoreBootstrap.developmentVariables {
            if let secret = value(variable) { settings.developmentKeys[role] = secret }
        }
        if let seconds = try integer("AITBC_READ_TIMEOUT_SECONDS", 1...3600) { settings.readTimeoutSeconds = seconds }
        if let seconds = try integer("AITBC_IDLE_TIMEOUT_SECONDS", 1...86400) { settings.idleTimeoutSeconds = seconds }
        if let seconds = try integer("AITBC_TLS_HANDSHAKE_TIMEOUT_SECONDS", 1...600) {
            settings.tlsHandshakeTimeoutSeconds = seconds
        }
        if let count = try integer("AITBC_MAX_CONNECTIONS", 1...10_000_000) { settings.maximumConnections = count }
        if let count = try integer("AITBC_MAX_POLLS_PER_KEY", 1...10_000_000) { settings.maximumPollsPerKey = count }
        if let count = try integer("AITBC_MAX_POLLS_PER_TENANT", 1...10_000_000) { settings.maximumPollsPerTenant = count }
        if let enabled = try boolean("AITBC_BENCHMARK_ROUTES") { settings.benchmarkRoutes = enabled }
        if let cost = try integer("AITBC_JOB_CREDIT_COST", 1...1_000_000) { settings.jobCreditCost = cost }
        settings.receiptSigningSeed = try parseReceiptSigningSeed(value("AITBC_RECEIPT_SIGNING_KEY_HEX"))
        settings.webhooks = try parseWebhookSettings(environment, production: settings.mode == .production)
        try parseWebhookRetention(environment, into: &settings.retention)
        settings.parentProcessID = try parseParentProcessID(value("AITBC_PARENT_PID"))
        try settings.validate()
        return settings
    }

    /// Checks the combination of settings.
    public func validate() throws {
        if mode == .production, !developmentKeys.isEmpty {
            let names = StoreBootstrap.developmentVariables.filter { developmentKeys[$0.role] != nil }.map(\.variable)
            throw Invalid(
                description: "AITBC_ENV=production refuses development keys: unset \(names.joined(separator: ", ")) "
                    + "(create keys through the API instead)")
        }
        if mode == .production, benchmarkRoutes {
            throw Invalid(description: "AITBC_ENV=production refuses AITBC_BENCHMARK_ROUTES: /bench/me is for benchmarks only")
        }
        if mode == .development, !developmentKeys.isEmpty, plans.limit(of: developmentPlan) == nil {
            throw Invalid(description: "AITBC_DEV_PLAN must be one of \(plans.names.joined(separator: ", "))")
        }
        for (role, secret) in developmentKeys where secret.utf8.count > APIKeyFormat.maximumLength {
            throw Invalid(description: "the development \(role.rawValue) key is longer than \(APIKeyFormat.maximumLength) bytes")
        }
        _ = try storage()
        if (tlsCertificatePath == nil) != (tlsKeyPath == nil) {
            throw Invalid(description: "AITBC_TLS_CERT and AITBC_TLS_KEY go together: set both for HTTPS, or neither")
        }
        for path in [tlsCertificatePath, tlsKeyPath].compactMap({ $0 }) where !FileManager.default.isReadableFile(atPath: path) {
            throw Invalid(description: "cannot read \(path) (AITBC_TLS_CERT / AITBC_TLS_KEY)")
        }
        if retention.usageHoursDays * 24 < retention.usageMinutesHours {
            throw Invalid(
                description: "AITBC_RETAIN_USAGE_HOURS_DAYS (\(retention.usageHoursDays) days) must cover "
                    + "AITBC_RETAIN_USAGE_MINUTES_HOURS (\(retention.usageMinutesHours) hours): hours are what minutes become")
        }
    }

    /// How the client's address is found: ``trustedProxies``, and every peer with ``trustForwardedFor``.
    public var proxies: TrustedProxies { TrustedProxies(blocks: trustedProxies, trustsEveryPeer: trustForwardedFor) }

    /// Whether dashboard cookies carry `Secure`.
    public var secureCookies: Bool { secureCookiesOverride ?? (tlsCertificatePath != nil) }

    /// The storage that ``databaseURL`` names.
    public enum Storage: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(PostgresStore.Configuration)
    }

    /// The storage named by ``databaseURL``: a SQLite file or a PostgreSQL database.
    public func storage() throws -> Storage {
        let url = databaseURL
        if PostgresStore.Configuration.isPostgresURL(url) {
            do {
                return .postgres(try PostgresStore.Configuration(url: url))
            } catch {
                throw Invalid(description: "\(error)")
            }
        }
        if url.hasPrefix("sqlite://") { return .sqlite(path: String(url.dropFirst("sqlite://".count))) }
        if url.hasPrefix("sqlite:") { return .sqlite(path: String(url.dropFirst("sqlite:".count))) }
        if url.contains("://") {
            throw Invalid(description: "AITBC_DATABASE_URL must be sqlite:PATH or postgres://…, got a different scheme")
        }
        return .sqlite(path: url)
    }
}

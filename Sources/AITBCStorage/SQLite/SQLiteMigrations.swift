/// The versioned schema of the SQLite store; each entry is applied once, in order, at start.
enum SQLiteMigrations {
    static let all = core + features

    /// Each feature's migrations, from its own `Migrations+Feature.swift` (versions stay increasing).
    static let features: [(version: Int, statements: [String])] = [
        allowList, quotas, webhooks, meterAlerts, PortableMigrations.webhookRetention, webhookLastAttempt,
        PortableMigrations.meterGenerations,
    ]

    static let core: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE tenants (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    custom_rate_limit INTEGER,
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    scopes TEXT,
                    digest BLOB NOT NULL UNIQUE,
                    previous_digest BLOB,
                    previous_valid_until INTEGER,
                    hint TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER,
                    revoked_at INTEGER,
                    rate_limit INTEGER,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    last_used_at INTEGER,
                    last_used_from TEXT
                )
                """,
                "CREATE INDEX api_keys_previous_digest ON api_keys(previous_digest) WHERE previous_digest IS NOT NULL",
                "CREATE INDEX api_keys_tenant_created ON api_keys(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX api_keys_created ON api_keys(created_at DESC, id DESC)",
                """
                CREATE TABLE key_usage (
                    key_id TEXT NOT NULL,
                    minute INTEGER NOT NULL,
                    admitted INTEGER NOT NULL DEFAULT 0,
                    rate_limited INTEGER NOT NULL DEFAULT 0,
                    errors INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (key_id, minute)
                ) WITHOUT ROWID
                """,
                """
                CREATE TABLE audit_events (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    actor_key_id TEXT,
                    target_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    data TEXT NOT NULL DEFAULT '{}'
                )
                """,
                "CREATE INDEX audit_events_tenant_created ON audit_events(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX audit_events_created ON audit_events(created_at DESC, id DESC)",
            ]
        ),
        (
            2,
            [
                """
                CREATE TABLE jobs (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    client_key_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    constraints TEXT,
                    ttl_seconds INTEGER NOT NULL,
                    requested_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    assigned_miner_id TEXT,
                    started_at INTEGER,
                    finished_at INTEGER,
                    result TEXT,
                    receipt TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    metrics TEXT,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX jobs_tenant_created ON jobs(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX jobs_tenant_state_created ON jobs(tenant_id, state, created_at DESC, id DESC)",
                "CREATE INDEX jobs_active ON jobs(state) WHERE state IN ('QUEUED', 'RUNNING')",
                """
                CREATE TABLE miners (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    capabilities TEXT NOT NULL,
                    concurrency INTEGER NOT NULL,
                    region TEXT,
                    status TEXT NOT NULL,
                    inflight INTEGER NOT NULL DEFAULT 0,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    registered_at INTEGER NOT NULL,
                    last_seen_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    tenant_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_digest BLOB NOT NULL,
                    job_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, key)
                )
                """,
            ]
        ),
        (
            3,
            [
                """
                CREATE TABLE accounts (
                    id TEXT PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    created_at INTEGER NOT NULL
                )
                """,
                """
                CREATE TABLE dashboard_sessions (
                    digest BLOB PRIMARY KEY,
                    account_id TEXT NOT NULL REFERENCES accounts(id),
                    csrf_token TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL
                )
                """,
                "CREATE INDEX dashboard_sessions_account ON dashboard_sessions(account_id)",
                "CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions(expires_at)",
            ]
        ),
        (
            // Retention (the same version as PostgreSQL's; 4 and 5 are PostgreSQL's shared rate budgets):
            // usage rolled up per hour, and the indexes that find what is past its age without a scan.
            6,
            [
                """
                CREATE TABLE key_usage_hours (
                    key_id TEXT NOT NULL,
                    hour INTEGER NOT NULL,
                    admitted INTEGER NOT NULL DEFAULT 0,
                    rate_limited INTEGER NOT NULL DEFAULT 0,
                    errors INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (key_id, hour)
                ) WITHOUT ROWID
                """,
                "CREATE INDEX key_usage_hours_hour ON key_usage_hours(hour)",
                "CREATE INDEX key_usage_minute ON key_usage(minute)",
                """
                CREATE INDEX jobs_finished ON jobs(finished_at)
                WHERE state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED')
                """,
                "CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at)",
            ]
        ),
        (
            // Receipt signing keys (the same version as PostgreSQL's): the public key of every key ever
            // used, and the one generated key's seed (a configured key's seed is never stored).
            8,
            [
                """
                CREATE TABLE receipt_keys (
                    key_id TEXT PRIMARY KEY,
                    generated INTEGER NOT NULL,
                    seed_hex TEXT,
                    created_at INTEGER NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX receipt_keys_one_generated ON receipt_keys(generated) WHERE generated = 1",
            ]
        ),
    ]
}

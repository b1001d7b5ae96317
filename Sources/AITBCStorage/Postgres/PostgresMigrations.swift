/// The versioned schema of the PostgreSQL store: the same versions as ``SQLiteMigrations``, in
/// PostgreSQL's types (`timestamptz` for instants, `bytea` for digests, `bigint` for counts; JSON
/// stays `text`, as on SQLite, so payloads round-trip byte for byte). Ids compare bytewise
/// (`COLLATE "C"`), as SQLite's do, so listings order ties alike whatever the database's locale.
/// Each entry is applied once, in order, at start.
enum PostgresMigrations {
    static let all: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE tenants (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    custom_rate_limit BIGINT,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX tenants_created ON tenants(created_at DESC, id DESC)",
                """
                CREATE TABLE api_keys (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    scopes TEXT,
                    digest BYTEA NOT NULL UNIQUE,
                    previous_digest BYTEA,
                    previous_valid_until TIMESTAMPTZ,
                    hint TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ,
                    revoked_at TIMESTAMPTZ,
                    rate_limit BIGINT,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    last_used_at TIMESTAMPTZ,
                    last_used_from TEXT
                )
                """,
                "CREATE INDEX api_keys_previous_digest ON api_keys(previous_digest) WHERE previous_digest IS NOT NULL",
                "CREATE INDEX api_keys_tenant_created ON api_keys(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX api_keys_created ON api_keys(created_at DESC, id DESC)",
                """
                CREATE TABLE key_usage (
                    key_id TEXT COLLATE "C" NOT NULL,
                    minute BIGINT NOT NULL,
                    admitted BIGINT NOT NULL DEFAULT 0,
                    rate_limited BIGINT NOT NULL DEFAULT 0,
                    errors BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (key_id, minute)
                )
                """,
                """
                CREATE TABLE audit_events (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    actor_key_id TEXT,
                    target_id TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
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
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    client_key_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    constraints TEXT,
                    ttl_seconds BIGINT NOT NULL,
                    requested_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL,
                    assigned_miner_id TEXT,
                    started_at TIMESTAMPTZ,
                    finished_at TIMESTAMPTZ,
                    result TEXT,
                    receipt TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    metrics TEXT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX jobs_tenant_created ON jobs(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX jobs_tenant_state_created ON jobs(tenant_id, state, created_at DESC, id DESC)",
                "CREATE INDEX jobs_active ON jobs(state, requested_at) WHERE state IN ('QUEUED', 'RUNNING')",
                """
                CREATE TABLE miners (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    capabilities TEXT NOT NULL,
                    concurrency BIGINT NOT NULL,
                    region TEXT,
                    status TEXT NOT NULL,
                    inflight BIGINT NOT NULL DEFAULT 0,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    registered_at TIMESTAMPTZ NOT NULL,
                    last_seen_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    tenant_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_digest BYTEA NOT NULL,
                    job_id TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (tenant_id, key)
                )
                """,
            ]
        ),
    ]
}

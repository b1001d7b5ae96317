/// The versioned schema of the SQLite store; each entry is applied once, in order, at start.
enum SQLiteMigrations {
    static let all: [(version: Int, statements: [String])] = [
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
        )
    ]
}

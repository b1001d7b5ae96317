extension PostgresMigrations {
    /// Quotas and credits: tenants' quota overrides, keys' credit settings, and the counters
    /// (a tenant's requests this day and month, a key's credit balance).
    static let quotas = (
        version: 11,
        statements: [
            "ALTER TABLE tenants ADD COLUMN quota_per_day BIGINT",
            "ALTER TABLE tenants ADD COLUMN quota_per_month BIGINT",
            "ALTER TABLE api_keys ADD COLUMN credits TEXT",
            """
            CREATE TABLE meters (
                name TEXT COLLATE "C" PRIMARY KEY,
                period_start BIGINT NOT NULL,
                value BIGINT NOT NULL
            )
            """,
        ]
    )
}

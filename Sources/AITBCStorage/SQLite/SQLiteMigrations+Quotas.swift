extension SQLiteMigrations {
    /// Quotas and credits: tenants' quota overrides, keys' credit settings, and the counters
    /// (a tenant's requests this day and month, a key's credit balance) written behind from memory.
    static let quotas = (
        version: 11,
        statements: [
            "ALTER TABLE tenants ADD COLUMN quota_per_day INTEGER",
            "ALTER TABLE tenants ADD COLUMN quota_per_month INTEGER",
            "ALTER TABLE api_keys ADD COLUMN credits TEXT",
            """
            CREATE TABLE meters (
                name TEXT PRIMARY KEY,
                period_start INTEGER NOT NULL,
                value INTEGER NOT NULL
            )
            """,
        ]
    )
}

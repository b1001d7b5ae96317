extension PostgresMigrations {
    /// Quota and credit webhooks: what a balance was last given (its `credits.low` threshold is 10 %
    /// of it) and which thresholds a counter has told (bits, cleared by a new period or balance).
    static let meterAlerts = (
        version: 14,
        statements: [
            "ALTER TABLE meters ADD COLUMN granted BIGINT",
            "ALTER TABLE meters ADD COLUMN alerted INTEGER NOT NULL DEFAULT 0",
            "UPDATE meters SET granted = value WHERE name LIKE 'credits:%'",
        ]
    )
}

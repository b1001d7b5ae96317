/// Migrations whose SQL SQLite and PostgreSQL both accept as written: one copy, listed by both
/// ``SQLiteMigrations/features`` and ``PostgresMigrations/features`` under the same version.
enum PortableMigrations {
    /// Indexes the retention janitor's webhook batches use: old deliveries and events by age, and an
    /// event's deliveries (an event goes only once none is left).
    static let webhookRetention = (
        version: 15,
        statements: [
            "CREATE INDEX webhook_deliveries_created ON webhook_deliveries(created_at)",
            "CREATE INDEX webhook_deliveries_event ON webhook_deliveries(event_id)",
            "CREATE INDEX webhook_events_created ON webhook_events(created_at)",
        ]
    )

    /// Which setting of a counter its value belongs to: a top-up (``MeterStore/saveMeterCounts(_:events:)``
    /// on PostgreSQL) makes the next one. Units leased before it are the old balance's: giving them
    /// back must not add them to the new one (``MeterLeaseAuthority/returnMeter(_:kind:periodStart:units:generation:)``),
    /// while units leased after it give back in full.
    static let meterGenerations = (
        version: 17,
        statements: ["ALTER TABLE meters ADD COLUMN generation BIGINT NOT NULL DEFAULT 0"]
    )
}

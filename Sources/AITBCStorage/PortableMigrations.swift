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
}

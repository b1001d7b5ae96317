extension SQLiteMigrations {
    /// Webhook endpoints, the event outbox, deliveries, and the key-expiry notices already sent.
    static let webhooks = (
        version: 13,
        statements: [
            """
            CREATE TABLE webhook_endpoints (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                description TEXT,
                secret TEXT NOT NULL,
                previous_secret TEXT,
                previous_secret_valid_until INTEGER,
                created_at INTEGER NOT NULL,
                disabled_at INTEGER,
                failing_since INTEGER
            )
            """,
            "CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints(tenant_id, created_at)",
            """
            CREATE TABLE webhook_events (
                id TEXT PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                type TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                data TEXT NOT NULL DEFAULT '{}'
            )
            """,
            """
            CREATE TABLE webhook_deliveries (
                id TEXT PRIMARY KEY,
                event_id TEXT NOT NULL,
                endpoint_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_status_code INTEGER,
                last_latency_ms INTEGER,
                last_error TEXT,
                next_attempt_at INTEGER,
                created_at INTEGER NOT NULL,
                delivered_at INTEGER,
                log TEXT NOT NULL DEFAULT '[]'
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at DESC, id DESC)",
            "CREATE TABLE webhook_key_notices (key_id TEXT NOT NULL, notice TEXT NOT NULL, PRIMARY KEY (key_id, notice))",
        ]
    )

    /// When a delivery was last attempted: retention counts a finished delivery's age from it, so a
    /// redelivery that fails again keeps its fresh log as long as a young one (not gone at the next
    /// sweep because its event is old). Deliveries attempted before this have none: their age is the event's.
    static let webhookLastAttempt = (
        version: 16,
        statements: ["ALTER TABLE webhook_deliveries ADD COLUMN last_attempt_at INTEGER"]
    )
}

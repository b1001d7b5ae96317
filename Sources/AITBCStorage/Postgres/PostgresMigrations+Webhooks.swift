extension PostgresMigrations {
    /// Webhook endpoints, the event outbox, deliveries, and the key-expiry notices already sent.
    static let webhooks = (
        version: 13,
        statements: [
            """
            CREATE TABLE webhook_endpoints (
                id TEXT COLLATE "C" PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                url TEXT NOT NULL,
                events TEXT NOT NULL,
                description TEXT,
                secret TEXT NOT NULL,
                previous_secret TEXT,
                previous_secret_valid_until TIMESTAMPTZ,
                created_at TIMESTAMPTZ NOT NULL,
                disabled_at TIMESTAMPTZ,
                failing_since TIMESTAMPTZ
            )
            """,
            "CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints(tenant_id, created_at)",
            """
            CREATE TABLE webhook_events (
                id TEXT COLLATE "C" PRIMARY KEY,
                tenant_id TEXT NOT NULL,
                type TEXT NOT NULL,
                created_at TIMESTAMPTZ NOT NULL,
                data TEXT NOT NULL DEFAULT '{}'
            )
            """,
            """
            CREATE TABLE webhook_deliveries (
                id TEXT COLLATE "C" PRIMARY KEY,
                event_id TEXT NOT NULL,
                endpoint_id TEXT NOT NULL,
                tenant_id TEXT NOT NULL,
                event_type TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL DEFAULT 0,
                last_status_code BIGINT,
                last_latency_ms BIGINT,
                last_error TEXT,
                next_attempt_at TIMESTAMPTZ,
                created_at TIMESTAMPTZ NOT NULL,
                delivered_at TIMESTAMPTZ,
                log TEXT NOT NULL DEFAULT '[]'
            )
            """,
            "CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, created_at DESC, id DESC)",
            "CREATE TABLE webhook_key_notices (key_id TEXT COLLATE \"C\" NOT NULL, notice TEXT NOT NULL, PRIMARY KEY (key_id, notice))",
        ]
    )

    /// When a delivery was last attempted: retention counts a finished delivery's age from it, so a
    /// redelivery that fails again keeps its fresh log as long as a young one (not gone at the next
    /// sweep because its event is old). Deliveries attempted before this have none: their age is the event's.
    static let webhookLastAttempt = (
        version: 16,
        statements: ["ALTER TABLE webhook_deliveries ADD COLUMN last_attempt_at TIMESTAMPTZ"]
    )
}

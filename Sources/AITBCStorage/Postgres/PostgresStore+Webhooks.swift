import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws {
        try await transaction { session in
            try await session.rows(
                """
                INSERT INTO webhook_endpoints (id, tenant_id, url, events, description, secret, previous_secret,
                previous_secret_valid_until, created_at, disabled_at, failing_since) VALUES (\(endpoint.id),
                \(endpoint.tenantID), \(endpoint.url), \(endpoint.eventsText), \(endpoint.description), \(endpoint.secret),
                \(endpoint.previousSecret), \(endpoint.previousSecretValidUntil.map(PostgresInstant.init)),
                \(PostgresInstant(endpoint.createdAt)), \(endpoint.disabledAt.map(PostgresInstant.init)),
                \(endpoint.failingSince.map(PostgresInstant.init)))
                """)
        }
    }

    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows(
                "SELECT \(unescaped: WebhookColumns.endpoint) FROM webhook_endpoints e WHERE e.id = \(id)"
            ).first.flatMap(Self.endpoint(from:))
        }
    }

    public func webhookEndpoints(tenantID: String) async throws -> [WebhookEndpoint] {
        guard Self.isStorable(tenantID) else { return [] }
        return try await read { session in
            try await session.rows(
                """
                SELECT \(unescaped: WebhookColumns.endpoint) FROM webhook_endpoints e WHERE e.tenant_id = \(tenantID)
                ORDER BY e.created_at, e.id
                """
            ).compactMap(Self.endpoint(from:))
        }
    }

    public func updateWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws -> Bool {
        guard Self.isStorable(endpoint.id) else { return false }
        return try await transaction { session in
            !(try await session.rows(
                """
                UPDATE webhook_endpoints SET url = \(endpoint.url), events = \(endpoint.eventsText),
                description = \(endpoint.description), secret = \(endpoint.secret), previous_secret = \(endpoint.previousSecret),
                previous_secret_valid_until = \(endpoint.previousSecretValidUntil.map(PostgresInstant.init)),
                disabled_at = \(endpoint.disabledAt.map(PostgresInstant.init)),
                failing_since = \(endpoint.failingSince.map(PostgresInstant.init))
                WHERE id = \(endpoint.id) RETURNING id
                """
            ).isEmpty)
        }
    }

    public func deleteWebhookEndpoint(id: String) async throws -> Bool {
        guard Self.isStorable(id) else { return false }
        return try await transaction { session in
            let deleted = !(try await session.rows("DELETE FROM webhook_endpoints WHERE id = \(id) RETURNING id").isEmpty)
            try await session.rows("DELETE FROM webhook_deliveries WHERE endpoint_id = \(id)")
            return deleted
        }
    }

    public func webhookSubscriptions() async throws -> [WebhookSubscription] {
        try await read { session in
            try await session.rows("SELECT tenant_id, events FROM webhook_endpoints WHERE disabled_at IS NULL")
                .flatMap { row -> [WebhookSubscription] in
                    let record = PostgresRecord(row)
                    let tenant: String = try record("tenant_id")
                    return WebhookEndpoint.events(fromText: try record("events"))
                        .map { WebhookSubscription(tenantID: tenant, type: $0) }
                }
        }
    }

    public func insertWebhookEvent(_ event: WebhookEvent, endpointID: String?) async throws {
        try await transaction { session in try await Self.insert(event, endpointID: endpointID, on: session) }
        webhookOutbox.eventWritten()
    }

    /// Writes `event` and its deliveries in the caller's transaction.
    static func insert(_ event: WebhookEvent, endpointID: String? = nil, on session: PostgresSession) async throws {
        try await session.rows(
            """
            INSERT INTO webhook_events (id, tenant_id, type, created_at, data) VALUES (\(event.id), \(event.tenantID),
            \(event.type.rawValue), \(PostgresInstant(event.createdAt)), \(JSONText.encode(event.data)))
            """)
        try await session.rows(
            """
            INSERT INTO webhook_deliveries (id, event_id, endpoint_id, tenant_id, event_type, status, attempts,
            next_attempt_at, created_at, log)
            SELECT 'dlv_' || substr(\(event.id), 5) || substr(e.id, 4), \(event.id), e.id, e.tenant_id,
            \(event.type.rawValue), 'pending', 0, \(PostgresInstant(event.createdAt)), \(PostgresInstant(event.createdAt)), '[]'
            FROM webhook_endpoints e WHERE e.tenant_id = \(event.tenantID) AND (
                (\(endpointID)::text IS NULL AND e.disabled_at IS NULL AND (' ' || e.events || ' ') LIKE \("% \(event.type.rawValue) %"))
                OR e.id = \(endpointID))
            """)
    }

    /// Writes the event `make` builds when the tenant is subscribed to `type`, in the caller's
    /// transaction; whether it wrote one.
    func insertWebhookEventIfSubscribed(
        _ type: WebhookEventType, tenantID: String, on session: PostgresSession, _ make: () -> WebhookEvent
    ) async throws -> Bool {
        guard let event = webhookOutbox.event(type, tenantID: tenantID, make) else { return false }
        try await Self.insert(event, on: session)
        return true
    }

    public func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedWebhookDelivery] {
        try await transaction { session in
            let ids = try await session.rows(
                """
                UPDATE webhook_deliveries SET next_attempt_at = \(PostgresInstant(leaseUntil)) WHERE id IN (
                    SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= \(PostgresInstant(now))
                    ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING id
                """
            ).map { try $0.decode(String.self) }
            guard !ids.isEmpty else { return [] }
            return try await session.rows(
                "SELECT \(unescaped: WebhookColumns.claimed) FROM \(unescaped: WebhookColumns.claimedFrom) WHERE d.id = ANY(\(ids))"
            ).compactMap(Self.claimed(from:))
        }
    }

    public func recordWebhookAttempt(_ outcome: WebhookAttemptOutcome) async throws {
        let delivery = outcome.delivery
        let at = PostgresInstant(outcome.at)
        try await transaction { session in
            try await session.rows(
                """
                UPDATE webhook_deliveries SET status = \(delivery.status.rawValue), attempts = \(delivery.attempts),
                last_status_code = \(delivery.lastStatusCode), last_latency_ms = \(delivery.lastLatencyMilliseconds),
                last_error = \(delivery.lastError), next_attempt_at = \(delivery.nextAttemptAt.map(PostgresInstant.init)),
                delivered_at = \(delivery.deliveredAt.map(PostgresInstant.init)), log = \(WebhookAttempt.encode(delivery.log)),
                last_attempt_at = \(at)
                WHERE id = \(delivery.id)
                """)
            if outcome.succeeded {
                try await session.rows("UPDATE webhook_endpoints SET failing_since = NULL WHERE id = \(delivery.endpointID)")
            } else {
                try await session.rows(
                    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, \(at)) WHERE id = \(delivery.endpointID)")
            }
            if let disabling = outcome.disabling {
                try await session.rows(
                    "UPDATE webhook_endpoints SET disabled_at = \(at) WHERE id = \(delivery.endpointID) AND disabled_at IS NULL")
                try await session.rows(Self.insertQuery(of: disabling))
            }
        }
    }

    public func webhookDeliveries(endpointID: String, after cursor: ListCursor?, limit: Int) async throws -> [WebhookDelivery] {
        guard Self.isStorable(endpointID) else { return [] }
        let created = cursor.map { PostgresInstant(unixMilliseconds: $0.createdAtMilliseconds) }
        return try await read { session in
            try await session.rows(
                """
                SELECT \(unescaped: WebhookColumns.delivery) FROM webhook_deliveries d WHERE d.endpoint_id = \(endpointID)
                AND (\(created)::timestamptz IS NULL OR (d.created_at, d.id) < (\(created), \(cursor?.id ?? "")))
                ORDER BY d.created_at DESC, d.id DESC LIMIT \(limit)
                """
            ).compactMap(Self.delivery(from:))
        }
    }

    public func webhookDelivery(id: String) async throws -> WebhookDelivery? {
        guard Self.isStorable(id) else { return nil }
        return try await read { session in
            try await session.rows("SELECT \(unescaped: WebhookColumns.delivery) FROM webhook_deliveries d WHERE d.id = \(id)")
                .first.flatMap(Self.delivery(from:))
        }
    }

    public func redeliverWebhook(id: String, at now: Date) async throws -> Bool {
        guard Self.isStorable(id) else { return false }
        let found = try await transaction { session in
            !(try await session.rows(
                """
                UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = \(PostgresInstant(now))
                WHERE id = \(id) RETURNING id
                """
            ).isEmpty)
        }
        if found { webhookOutbox.eventWritten() }
        return found
    }

    public func keysAwaitingNotice(
        _ notice: String, tenantIDs: [String], expiringAfter after: Date, before: Date, limit: Int
    ) async throws -> [APIKeyRecord] {
        let tenants = tenantIDs.filter(Self.isStorable)
        guard !tenants.isEmpty else { return [] }
        return try await read { session in
            try await session.rows(
                """
                SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.tenant_id = ANY(\(tenants))
                AND k.revoked_at IS NULL AND k.expires_at > \(PostgresInstant(after)) AND k.expires_at <= \(PostgresInstant(before))
                AND NOT EXISTS (SELECT 1 FROM webhook_key_notices n WHERE n.key_id = k.id AND n.notice = \(notice))
                LIMIT \(limit)
                """
            ).compactMap(Self.key(from:))
        }
    }

    public func recordKeyNotice(keyID: String, notice: String, event: WebhookEvent) async throws -> Bool {
        guard Self.isStorable(keyID) else { return false }
        let recorded = try await transaction { session in
            let inserted = try await session.rows(
                """
                INSERT INTO webhook_key_notices (key_id, notice) VALUES (\(keyID), \(notice))
                ON CONFLICT DO NOTHING RETURNING key_id
                """)
            guard !inserted.isEmpty else { return false }
            try await Self.insert(event, on: session)
            return true
        }
        if recorded { webhookOutbox.eventWritten() }
        return recorded
    }
}

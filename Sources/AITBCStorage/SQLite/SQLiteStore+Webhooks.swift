import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    public func insertWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws {
        try await transaction { connection in
            _ = try connection.query(
                """
                INSERT INTO webhook_endpoints (id, tenant_id, url, events, description, secret, previous_secret,
                previous_secret_valid_until, created_at, disabled_at, failing_since) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [.text(endpoint.id), .text(endpoint.tenantID)] + Self.mutableBinds(of: endpoint))
        }
    }

    public func webhookEndpoint(id: String) async throws -> WebhookEndpoint? {
        try await read { connection in
            try connection.query("SELECT \(WebhookColumns.endpoint) FROM webhook_endpoints e WHERE e.id = ?", [.text(id)])
                .first.flatMap(Self.endpoint(from:))
        }
    }

    public func webhookEndpoints(tenantID: String) async throws -> [WebhookEndpoint] {
        try await read { connection in
            try connection.query(
                "SELECT \(WebhookColumns.endpoint) FROM webhook_endpoints e WHERE e.tenant_id = ? ORDER BY e.created_at, e.id",
                [.text(tenantID)]
            ).compactMap(Self.endpoint(from:))
        }
    }

    public func updateWebhookEndpoint(_ endpoint: WebhookEndpoint) async throws -> Bool {
        try await transaction { connection in
            _ = try connection.query(
                """
                UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, secret = ?, previous_secret = ?,
                previous_secret_valid_until = ?, created_at = ?, disabled_at = ?, failing_since = ? WHERE id = ?
                """,
                Self.mutableBinds(of: endpoint) + [.text(endpoint.id)])
            return try connection.query("SELECT changes() AS n").first?.column("n")?.integer == 1
        }
    }

    public func deleteWebhookEndpoint(id: String) async throws -> Bool {
        try await transaction { connection in
            _ = try connection.query("DELETE FROM webhook_endpoints WHERE id = ?", [.text(id)])
            let deleted = try connection.query("SELECT changes() AS n").first?.column("n")?.integer == 1
            _ = try connection.query("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", [.text(id)])
            return deleted
        }
    }

    public func webhookSubscriptions() async throws -> [WebhookSubscription] {
        try await read { connection in
            try connection.query("SELECT tenant_id, events FROM webhook_endpoints WHERE disabled_at IS NULL")
                .flatMap { row -> [WebhookSubscription] in
                    guard let tenant = row.column("tenant_id")?.string else { return [] }
                    return WebhookEndpoint.events(fromText: row.column("events")?.string ?? "")
                        .map { WebhookSubscription(tenantID: tenant, type: $0) }
                }
        }
    }

    public func insertWebhookEvent(_ event: WebhookEvent, endpointID: String?) async throws {
        try await transaction { connection in try Self.insert(event, endpointID: endpointID, on: connection) }
        webhookOutbox.eventWritten()
    }

    /// Writes `event` and its deliveries on `connection`, inside the caller's transaction.
    static func insert(_ event: WebhookEvent, endpointID: String? = nil, on connection: SQLiteHandle) throws {
        let created = SQLiteData.integer(Int(event.createdAt.unixMilliseconds))
        _ = try connection.query(
            "INSERT INTO webhook_events (id, tenant_id, type, created_at, data) VALUES (?, ?, ?, ?, ?)",
            [.text(event.id), .text(event.tenantID), .text(event.type.rawValue), created, .text(JSONText.encode(event.data))])
        let target = endpointID == nil ? "(' ' || e.events || ' ') LIKE ? AND e.disabled_at IS NULL" : "e.id = ?"
        _ = try connection.query(
            """
            INSERT INTO webhook_deliveries (id, event_id, endpoint_id, tenant_id, event_type, status, attempts,
            next_attempt_at, created_at, log)
            SELECT 'dlv_' || substr(?, 5) || substr(e.id, 4), ?, e.id, e.tenant_id, ?, 'pending', 0, ?, ?, '[]'
            FROM webhook_endpoints e WHERE e.tenant_id = ? AND \(target)
            """,
            [
                .text(event.id), .text(event.id), .text(event.type.rawValue), created, created, .text(event.tenantID),
                .text(endpointID ?? "% \(event.type.rawValue) %"),
            ])
    }

    /// Writes the event `make` builds when the tenant is subscribed to `type` (on `connection`,
    /// inside the caller's transaction); whether it wrote one.
    func insertWebhookEventIfSubscribed(
        _ type: WebhookEventType, tenantID: String, on connection: SQLiteHandle, _ make: () -> WebhookEvent
    ) throws -> Bool {
        guard let event = webhookOutbox.event(type, tenantID: tenantID, make) else { return false }
        try Self.insert(event, on: connection)
        return true
    }

    public func claimWebhookDeliveries(now: Date, leaseUntil: Date, limit: Int) async throws -> [ClaimedWebhookDelivery] {
        try await transaction { connection in
            let ids = try connection.query(
                """
                UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id IN (
                    SELECT id FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
                    ORDER BY next_attempt_at LIMIT ?)
                RETURNING id
                """,
                [.integer(Int(leaseUntil.unixMilliseconds)), .integer(Int(now.unixMilliseconds)), .integer(limit)]
            ).compactMap { $0.column("id")?.string }
            guard !ids.isEmpty else { return [] }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ", ")
            return try connection.query(
                "SELECT \(WebhookColumns.claimed) FROM \(WebhookColumns.claimedFrom) WHERE d.id IN (\(marks))",
                ids.map { .text($0) }
            ).compactMap(Self.claimed(from:))
        }
    }

    public func recordWebhookAttempt(_ outcome: WebhookAttemptOutcome) async throws {
        let delivery = outcome.delivery
        try await transaction { connection in
            _ = try connection.query(
                """
                UPDATE webhook_deliveries SET status = ?, attempts = ?, last_status_code = ?, last_latency_ms = ?,
                last_error = ?, next_attempt_at = ?, delivered_at = ?, log = ?, last_attempt_at = ? WHERE id = ?
                """,
                [
                    .text(delivery.status.rawValue), .integer(delivery.attempts), Self.optionalInt(delivery.lastStatusCode),
                    Self.optionalInt(delivery.lastLatencyMilliseconds), delivery.lastError.map { .text($0) } ?? .null,
                    Self.optionalDate(delivery.nextAttemptAt), Self.optionalDate(delivery.deliveredAt),
                    .text(WebhookAttempt.encode(delivery.log)), .integer(Int(outcome.at.unixMilliseconds)), .text(delivery.id),
                ])
            let at = SQLiteData.integer(Int(outcome.at.unixMilliseconds))
            if outcome.succeeded {
                _ = try connection.query(
                    "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?", [.text(delivery.endpointID)])
            } else {
                _ = try connection.query(
                    "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?) WHERE id = ?",
                    [at, .text(delivery.endpointID)])
            }
            if let disabling = outcome.disabling {
                _ = try connection.query(
                    "UPDATE webhook_endpoints SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
                    [at, .text(delivery.endpointID)])
                try Self.insert(disabling, on: connection)
            }
        }
    }

    public func webhookDeliveries(endpointID: String, after cursor: ListCursor?, limit: Int) async throws -> [WebhookDelivery] {
        var binds: [SQLiteData] = [.text(endpointID)]
        var condition = ""
        if let cursor {
            let created = SQLiteData.integer(Int(cursor.createdAtMilliseconds))
            condition = "AND (d.created_at < ? OR (d.created_at = ? AND d.id < ?))"
            binds += [created, created, .text(cursor.id)]
        }
        binds.append(.integer(limit))
        let sql = """
            SELECT \(WebhookColumns.delivery) FROM webhook_deliveries d WHERE d.endpoint_id = ? \(condition)
            ORDER BY d.created_at DESC, d.id DESC LIMIT ?
            """
        let finalBinds = binds
        return try await read { connection in
            try connection.query(sql, finalBinds).compactMap(Self.delivery(from:))
        }
    }

    public func webhookDelivery(id: String) async throws -> WebhookDelivery? {
        try await read { connection in
            try connection.query("SELECT \(WebhookColumns.delivery) FROM webhook_deliveries d WHERE d.id = ?", [.text(id)])
                .first.flatMap(Self.delivery(from:))
        }
    }

    public func redeliverWebhook(id: String, at now: Date) async throws -> Bool {
        let found = try await transaction { connection in
            _ = try connection.query(
                "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ? WHERE id = ?",
                [.integer(Int(now.unixMilliseconds)), .text(id)])
            return try connection.query("SELECT changes() AS n").first?.column("n")?.integer == 1
        }
        if found { webhookOutbox.eventWritten() }
        return found
    }

    public func keysAwaitingNotice(
        _ notice: String, tenantIDs: [String], expiringAfter after: Date, before: Date, limit: Int
    ) async throws -> [APIKeyRecord] {
        guard !tenantIDs.isEmpty else { return [] }
        let marks = Array(repeating: "?", count: tenantIDs.count).joined(separator: ", ")
        let binds: [SQLiteData] =
            tenantIDs.map { .text($0) } + [
                .integer(Int(after.unixMilliseconds)), .integer(Int(before.unixMilliseconds)), .text(notice), .integer(limit),
            ]
        return try await read { connection in
            try connection.query(
                """
                SELECT \(Self.keyColumns) FROM api_keys k WHERE k.tenant_id IN (\(marks)) AND k.revoked_at IS NULL
                AND k.expires_at > ? AND k.expires_at <= ?
                AND NOT EXISTS (SELECT 1 FROM webhook_key_notices n WHERE n.key_id = k.id AND n.notice = ?) LIMIT ?
                """, binds
            ).compactMap(Self.key(from:))
        }
    }

    public func recordKeyNotice(keyID: String, notice: String, event: WebhookEvent) async throws -> Bool {
        let recorded = try await transaction { connection in
            let inserted = try connection.query(
                "INSERT INTO webhook_key_notices (key_id, notice) VALUES (?, ?) ON CONFLICT DO NOTHING RETURNING key_id",
                [.text(keyID), .text(notice)])
            guard !inserted.isEmpty else { return false }
            try Self.insert(event, on: connection)
            return true
        }
        if recorded { webhookOutbox.eventWritten() }
        return recorded
    }

    static func mutableBinds(of endpoint: WebhookEndpoint) -> [SQLiteData] {
        [
            .text(endpoint.url), .text(endpoint.eventsText), endpoint.description.map { .text($0) } ?? .null,
            .text(endpoint.secret), endpoint.previousSecret.map { .text($0) } ?? .null,
            optionalDate(endpoint.previousSecretValidUntil), .integer(Int(endpoint.createdAt.unixMilliseconds)),
            optionalDate(endpoint.disabledAt), optionalDate(endpoint.failingSince),
        ]
    }
}

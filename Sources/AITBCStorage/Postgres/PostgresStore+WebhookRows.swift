import AITBCDomain
import Foundation
import PostgresNIO

extension PostgresStore {
    static func endpoint(from row: PostgresRow) throws -> WebhookEndpoint? {
        try endpoint(from: PostgresRecord(row), id: PostgresRecord(row)("endpoint_id"), tenantID: PostgresRecord(row)("tenant_id"))
    }

    static func endpoint(from record: PostgresRecord, id: String, tenantID: String) throws -> WebhookEndpoint {
        WebhookEndpoint(
            id: id, tenantID: tenantID, url: try record("url"),
            events: WebhookEndpoint.events(fromText: try record("events")), description: try record("description"),
            secret: try record("secret"), previousSecret: try record("previous_secret"),
            previousSecretValidUntil: try record("previous_secret_valid_until", as: PostgresInstant?.self)?.date,
            createdAt: try record("endpoint_created_at", as: PostgresInstant.self).date,
            disabledAt: try record("disabled_at", as: PostgresInstant?.self)?.date,
            failingSince: try record("failing_since", as: PostgresInstant?.self)?.date)
    }

    static func delivery(from row: PostgresRow) throws -> WebhookDelivery? {
        try delivery(from: PostgresRecord(row))
    }

    static func delivery(from record: PostgresRecord) throws -> WebhookDelivery? {
        guard let type = WebhookEventType(rawValue: try record("event_type")),
            let status = WebhookDelivery.Status(rawValue: try record("status"))
        else { return nil }
        return WebhookDelivery(
            id: try record("id"), eventID: try record("event_id"), endpointID: try record("endpoint_id"),
            tenantID: try record("tenant_id"), eventType: type, status: status, attempts: try record("attempts", as: Int.self),
            lastStatusCode: try record("last_status_code", as: Int?.self),
            lastLatencyMilliseconds: try record("last_latency_ms", as: Int?.self), lastError: try record("last_error"),
            nextAttemptAt: try record("next_attempt_at", as: PostgresInstant?.self)?.date,
            createdAt: try record("created_at", as: PostgresInstant.self).date,
            deliveredAt: try record("delivered_at", as: PostgresInstant?.self)?.date,
            log: WebhookAttempt.decode(try record("log", as: String.self)))
    }

    static func claimed(from row: PostgresRow) throws -> ClaimedWebhookDelivery? {
        let record = PostgresRecord(row)
        guard let delivery = try delivery(from: record) else { return nil }
        let endpoint = try endpoint(from: record, id: delivery.endpointID, tenantID: delivery.tenantID)
        let event = WebhookEvent(
            id: delivery.eventID, tenantID: delivery.tenantID, type: delivery.eventType,
            createdAt: try record("event_created_at", as: PostgresInstant.self).date,
            data: JSONText.decodeObject(try record("event_data", as: String.self)))
        return ClaimedWebhookDelivery(delivery: delivery, event: event, endpoint: endpoint)
    }
}

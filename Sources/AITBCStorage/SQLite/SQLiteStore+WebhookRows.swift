import AITBCDomain
import Foundation
import SQLiteNIO

extension SQLiteStore {
    static func endpoint(from row: SQLiteStoredRow) -> WebhookEndpoint? {
        func text(_ name: String) -> String? { row.column(name).flatMap { $0.isNull ? nil : $0.string } }
        guard let id = text("endpoint_id"), let tenantID = text("tenant_id"), let url = text("url"),
            let secret = text("secret"), let created = date(row.column("endpoint_created_at"))
        else { return nil }
        return WebhookEndpoint(
            id: id, tenantID: tenantID, url: url, events: WebhookEndpoint.events(fromText: text("events") ?? ""),
            description: text("description"), secret: secret, previousSecret: text("previous_secret"),
            previousSecretValidUntil: date(row.column("previous_secret_valid_until")), createdAt: created,
            disabledAt: date(row.column("disabled_at")), failingSince: date(row.column("failing_since")))
    }

    static func delivery(from row: SQLiteStoredRow) -> WebhookDelivery? {
        func text(_ name: String) -> String? { row.column(name).flatMap { $0.isNull ? nil : $0.string } }
        func int(_ name: String) -> Int? { row.column(name).flatMap { $0.isNull ? nil : $0.integer } }
        guard let id = text("id"), let eventID = text("event_id"), let endpointID = text("endpoint_id"),
            let tenantID = text("tenant_id"), let type = text("event_type").flatMap(WebhookEventType.init(rawValue:)),
            let status = text("status").flatMap(WebhookDelivery.Status.init(rawValue:)),
            let created = date(row.column("created_at"))
        else { return nil }
        return WebhookDelivery(
            id: id, eventID: eventID, endpointID: endpointID, tenantID: tenantID, eventType: type, status: status,
            attempts: int("attempts") ?? 0, lastStatusCode: int("last_status_code"),
            lastLatencyMilliseconds: int("last_latency_ms"), lastError: text("last_error"),
            nextAttemptAt: date(row.column("next_attempt_at")), createdAt: created,
            deliveredAt: date(row.column("delivered_at")), log: WebhookAttempt.decode(text("log")))
    }

    static func claimed(from row: SQLiteStoredRow) -> ClaimedWebhookDelivery? {
        guard let delivery = delivery(from: row), let endpoint = endpoint(from: row),
            let created = date(row.column("event_created_at"))
        else { return nil }
        let event = WebhookEvent(
            id: delivery.eventID, tenantID: delivery.tenantID, type: delivery.eventType, createdAt: created,
            data: JSONText.decodeObject(row.column("event_data")?.string))
        return ClaimedWebhookDelivery(delivery: delivery, event: event, endpoint: endpoint)
    }
}

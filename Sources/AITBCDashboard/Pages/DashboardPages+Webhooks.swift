import AITBCDomain
import AITBCWire
import Foundation

/// The view models of the webhooks pages. Every value is placed by a template, which escapes it.
extension DashboardPages {
    static func webhookRow(_ endpoint: WebhookEndpoint) -> [String: Any] {
        var row: [String: Any] = [
            "id": endpoint.id, "url": endpoint.url, "events": endpoint.events.map(\.rawValue),
            "state": endpoint.isEnabled ? "enabled" : "disabled",
            "createdText": readable(endpoint.createdAt),
        ]
        if let description = endpoint.description, !description.isEmpty { row["description"] = description }
        if let disabledAt = endpoint.disabledAt { row["disabledText"] = readable(disabledAt) }
        if let failingSince = endpoint.failingSince { row["failingText"] = readable(failingSince) }
        return row
    }

    static func deliveryRow(_ delivery: WebhookDelivery) -> [String: Any] {
        var row: [String: Any] = [
            "id": delivery.id, "eventID": delivery.eventID, "eventType": delivery.eventType.rawValue,
            "status": delivery.status.rawValue, "attempts": delivery.attempts,
            "createdText": readable(delivery.createdAt),
            "httpStatus": delivery.lastStatusCode.map(String.init) ?? "–",
            "latency": delivery.lastLatencyMilliseconds.map { "\($0) ms" } ?? "–",
            "nextText": delivery.status == .pending ? (delivery.nextAttemptAt.map(readable) ?? "–") : "–",
        ]
        if let error = delivery.lastError { row["error"] = error }
        return row
    }
}

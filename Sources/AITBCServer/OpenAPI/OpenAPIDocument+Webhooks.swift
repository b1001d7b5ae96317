import AITBCDomain
import AITBCWire

extension OpenAPIDocument {
    static let webhookPaths: JSONValue = [
        "/v1/webhooks": [
            "post": operation(
                "Create an endpoint; its signing secret is in secret, shown once", tag: "webhooks", status: "201",
                response: ref("Webhook"), body: ref("CreateWebhook")),
            "get": operation("The tenant's endpoints, oldest first; never a secret", tag: "webhooks", response: page(of: "Webhook")),
        ],
        "/v1/webhooks/{webhook_id}": [
            "get": operation("One endpoint", tag: "webhooks", response: ref("Webhook"), parameters: [pathParameter("webhook_id")]),
            "patch": operation(
                "Change url, events, description, or enable/disable", tag: "webhooks", response: ref("Webhook"),
                body: ref("UpdateWebhook"), parameters: [pathParameter("webhook_id")]),
            "delete": operation(
                "Delete the endpoint and its deliveries", tag: "webhooks", status: "204", response: nil,
                parameters: [pathParameter("webhook_id")]),
        ],
        "/v1/webhooks/{webhook_id}/rotate-secret": [
            "post": operation(
                "New signing secret, shown once; the old one also signs for the grace period (default 24 h)", tag: "webhooks",
                response: ref("Webhook"), body: ref("RotateWebhookSecret"), bodyRequired: false,
                parameters: [pathParameter("webhook_id")])
        ],
        "/v1/webhooks/{webhook_id}/test": [
            "post": operation(
                "Send a webhook.test event to this endpoint only", tag: "webhooks", status: "202", response: ref("WebhookTest"),
                parameters: [pathParameter("webhook_id")])
        ],
        "/v1/webhooks/{webhook_id}/deliveries": [
            "get": operation(
                "The endpoint's deliveries, newest first, with each attempt", tag: "webhooks",
                response: page(of: "WebhookDelivery"), parameters: [pathParameter("webhook_id")] + pageParameters)
        ],
        "/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver": [
            "post": operation(
                "Send the delivery again now", tag: "webhooks", status: "202", response: ref("WebhookDelivery"),
                parameters: [pathParameter("webhook_id"), pathParameter("delivery_id")])
        ],
    ]

    static let webhookSchemas: JSONValue = [
        "CreateWebhook": object(
            [
                "url": ["type": "string", "format": "uri", "maxLength": 2048],
                "events": ["type": "array", "minItems": 1, "items": eventType],
                "description": ["type": "string", "maxLength": 500],
            ],
            required: ["url", "events"]),
        "UpdateWebhook": [
            "type": "object",
            "properties": [
                "url": ["type": "string", "format": "uri", "maxLength": 2048],
                "events": ["type": "array", "minItems": 1, "items": eventType],
                "description": nullable("string"), "enabled": ["type": "boolean"],
            ],
        ],
        "RotateWebhookSecret": [
            "type": "object", "properties": ["grace_period_seconds": ["type": "integer", "minimum": 0, "maximum": 604_800]],
        ],
        "Webhook": object(
            [
                "webhook_id": string, "url": string, "events": ["type": "array", "items": eventType],
                "description": nullable("string"), "enabled": ["type": "boolean"], "created_at": dateTime,
                "disabled_at": nullable("string", format: "date-time"), "failing_since": nullable("string", format: "date-time"),
                "previous_secret_valid_until": nullable("string", format: "date-time"),
                "secret": ["type": "string", "description": "whsec_…, only in the answer that issued it"],
            ],
            required: ["webhook_id", "url", "events", "description", "enabled", "created_at"]),
        "WebhookTest": object(["event_id": string, "type": string], required: ["event_id", "type"]),
        "WebhookAttempt": object(
            [
                "attempt": integer, "at": dateTime, "status_code": nullable("integer"), "latency_ms": integer,
                "error": nullable("string"), "next_attempt_at": nullable("string", format: "date-time"),
            ],
            required: ["attempt", "at", "latency_ms"]),
        "WebhookDelivery": object(
            [
                "delivery_id": string, "event_id": string, "event_type": string,
                "status": ["type": "string", "enum": ["pending", "delivered", "failed"]], "attempts": integer,
                "last_status_code": nullable("integer"), "last_latency_ms": nullable("integer"), "last_error": nullable("string"),
                "next_attempt_at": nullable("string", format: "date-time"), "created_at": dateTime,
                "delivered_at": nullable("string", format: "date-time"),
                "attempt_log": ["type": "array", "items": ref("WebhookAttempt")],
            ],
            required: ["delivery_id", "event_id", "event_type", "status", "attempts", "created_at", "attempt_log"]),
    ]

    static let eventType: JSONValue = ["type": "string", "enum": .array(WebhookEventType.subscribable.map { .string($0.rawValue) })]
}

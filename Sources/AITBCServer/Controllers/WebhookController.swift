import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The webhook routes: endpoints (create, list, get, change, delete), secret rotation, a test event,
/// and each endpoint's deliveries (list, resend).
struct WebhookController {
    let webhooks: WebhookService

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("webhooks", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(CreateWebhookRequest.self, context: context)
            let issued = try await webhooks.create(
                url: body.url, events: body.events, description: body.description, by: context.principal)
            return JSONResponse.makeWithSecret(status: .created, issued.endpoint.view(secret: issued.secret))
        }
        group.on("webhooks", method: .get) { _, context in
            let endpoints = try await webhooks.list(by: context.principal)
            return JSONResponse.make(Page(items: endpoints.map { $0.view() }, nextCursor: nil))
        }
        group.on("webhooks/{webhook_id}", method: .get) { request, context in
            JSONResponse.make(try await webhooks.get(try request.parameter("webhook_id", in: context), by: context.principal).view())
        }
        group.on("webhooks/{webhook_id}", method: .patch) { request, context in
            var request = request
            let id = try request.parameter("webhook_id", in: context)
            let body = try await request.decodeJSON(UpdateWebhookRequest.self, context: context)
            let endpoint = try await webhooks.update(
                id, url: body.url, events: body.events, description: body.description, enabled: body.enabled,
                by: context.principal)
            return JSONResponse.make(endpoint.view())
        }
        group.on("webhooks/{webhook_id}", method: .delete) { request, context in
            try await webhooks.delete(try request.parameter("webhook_id", in: context), by: context.principal)
            return Response(status: .noContent)
        }
        group.on("webhooks/{webhook_id}/rotate-secret", method: .post) { request, context in
            var request = request
            let id = try request.parameter("webhook_id", in: context)
            let body = try await request.decodeJSON(
                RotateWebhookSecretRequest.self, context: context, empty: RotateWebhookSecretRequest())
            let issued = try await webhooks.rotateSecret(id, gracePeriodSeconds: body.gracePeriodSeconds, by: context.principal)
            return JSONResponse.makeWithSecret(issued.endpoint.view(secret: issued.secret))
        }
        group.on("webhooks/{webhook_id}/test", method: .post) { request, context in
            let event = try await webhooks.sendTest(try request.parameter("webhook_id", in: context), by: context.principal)
            return JSONResponse.make(status: .accepted, WebhookTestView(eventID: event.id, type: event.type.rawValue))
        }
        group.on("webhooks/{webhook_id}/deliveries", method: .get) { request, context in
            let page = try PageRequest(request)
            let deliveries = try await webhooks.deliveries(
                of: try request.parameter("webhook_id", in: context), by: context.principal, after: page.cursor,
                limit: page.fetchLimit)
            let shown = page.page(deliveries) {
                ListCursor(createdAtMilliseconds: $0.createdAt.unixMilliseconds, id: $0.id)
            }
            return JSONResponse.make(Page(items: shown.items.map(\.view), nextCursor: shown.next))
        }
        group.on("webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver", method: .post) { request, context in
            let delivery = try await webhooks.redeliver(
                try request.parameter("delivery_id", in: context), of: try request.parameter("webhook_id", in: context),
                by: context.principal)
            return JSONResponse.make(status: .accepted, delivery.view)
        }
    }
}

extension WebhookEndpoint {
    /// The wire form, with `secret` only when it was just issued.
    func view(secret: String? = nil) -> WebhookView {
        WebhookView(
            webhookID: id, url: url, events: events.map(\.rawValue), description: description, enabled: isEnabled,
            createdAt: createdAt, disabledAt: disabledAt, failingSince: failingSince,
            previousSecretValidUntil: previousSecretValidUntil.flatMap { $0 > Date() ? $0 : nil }, secret: secret)
    }
}

extension WebhookDelivery {
    var view: WebhookDeliveryView {
        WebhookDeliveryView(
            deliveryID: id, eventID: eventID, eventType: eventType.rawValue, status: status.rawValue, attempts: attempts,
            lastStatusCode: lastStatusCode, lastLatencyMs: lastLatencyMilliseconds, lastError: lastError,
            nextAttemptAt: nextAttemptAt, createdAt: createdAt, deliveredAt: deliveredAt,
            attemptLog: log.map {
                WebhookAttemptView(
                    attempt: $0.attempt, at: $0.at, statusCode: $0.statusCode, latencyMs: $0.latencyMilliseconds,
                    error: $0.error, nextAttemptAt: $0.nextAttemptAt)
            })
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The webhooks pages: the tenant's endpoints and their recent deliveries; create (the secret shown
/// once), delete, send a test event, redeliver. Every action goes through ``WebhookService`` as the
/// API's routes do, so the rules are the same; another tenant's endpoint is "not found".
extension DashboardController {
    /// How many of an endpoint's deliveries its page shows, newest first.
    static var recentDeliveries: Int { 25 }

    /// Adds `/dashboard/webhooks` and its endpoint pages and actions.
    public func addWebhooks(to router: Router<Context>, webhooks: WebhookService) {
        func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
            router.on(RouterPath("/dashboard/webhooks" + path), method: method, use: handler)
        }
        on(.get, "") { request, _ in try await webhooksPage(request, webhooks: webhooks) }
        on(.post, "") { request, context in try await createWebhook(request, context: context, webhooks: webhooks) }
        on(.get, "/{webhook_id}") { request, context in try await webhookPage(request, context: context, webhooks: webhooks) }
        on(.post, "/{webhook_id}/delete") { request, context in
            try await deleteWebhook(request, context: context, webhooks: webhooks)
        }
        on(.post, "/{webhook_id}/test") { request, context in
            try await testWebhook(request, context: context, webhooks: webhooks)
        }
        on(.post, "/{webhook_id}/deliveries/{delivery_id}/redeliver") { request, context in
            try await redeliverWebhook(request, context: context, webhooks: webhooks)
        }
    }

    func webhooksPage(_ request: Request, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        let notice = request.uri.queryParameters["deleted"] != nil ? "The endpoint is deleted." : nil
        return try await webhooksList(signedIn: signedIn, webhooks: webhooks, form: WebhookForm(), notice: notice)
    }

    func webhooksList(
        signedIn: SignedIn, webhooks: WebhookService, form: WebhookForm, errors: [String: String] = [:],
        problem: String? = nil, notice: String? = nil, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) async throws -> Response {
        let endpoints = try await webhooks.list(by: signedIn.principal)
        let chosen = Set(form.events ?? [])
        var data: [String: Any] = [
            "tenantID": signedIn.principal.tenant.id,
            "endpoints": endpoints.map(DashboardPages.webhookRow),
            "urlField": DashboardPages.field(
                "url", label: "URL", type: "url", value: form.url ?? "", error: errors["url"],
                hint: "Where events are posted, e.g. https://example.com/aitbc/webhooks.", autocomplete: "off"),
            "descriptionValue": form.description ?? "",
            "eventChoices": WebhookEventType.subscribable.map {
                ["value": $0.rawValue, "checked": chosen.contains($0.rawValue)] as [String: Any]
            },
            "atLimit": endpoints.count >= WebhookService.maximumEndpointsPerTenant,
            "maximumEndpoints": WebhookService.maximumEndpointsPerTenant,
        ]
        if let message = errors["events"] { data["eventsError"] = message }
        if let message = errors["description"] { data["descriptionError"] = message }
        if let problem { data["problem"] = problem }
        if let notice { data["notice"] = notice }
        return pages.page("webhooks", title: "Webhooks", data: data, signedIn: signedIn, status: status, extraHeaders: headers)
    }

    func createWebhook(_ request: Request, context: Context, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(WebhookForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        let description = form.description.flatMap { $0.isEmpty ? nil : $0 }
        do {
            let issued = try await webhooks.create(
                url: form.url ?? "", events: form.events ?? [], description: description, by: signedIn.principal)
            let data: [String: Any] = [
                "secret": issued.secret, "webhookID": issued.endpoint.id, "url": issued.endpoint.url,
            ]
            return pages.page("webhook-secret", title: "Endpoint created", data: data, signedIn: signedIn, status: .created)
        } catch let error as CoordinatorError where error.kind != .unavailable {
            let (errors, problem, status, headers) = Self.formErrors(error)
            return try await webhooksList(
                signedIn: signedIn, webhooks: webhooks, form: form, errors: errors, problem: problem, status: status,
                headers: headers)
        }
    }

    func webhookPage(_ request: Request, context: Context, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let endpoint = try await visibleWebhook(context, signedIn, webhooks) else { return webhookNotFound(signedIn) }
        let deliveries = try await webhooks.deliveries(
            of: endpoint.id, by: signedIn.principal, after: nil, limit: Self.recentDeliveries)
        var notice: String?
        // Only what the page itself shows: a crafted link cannot make it say anything else.
        if let tested = request.uri.queryParameters["tested"], deliveries.contains(where: { $0.eventID == tested }) {
            notice = "A test event is queued."
        }
        if let again = request.uri.queryParameters["redelivered"],
            deliveries.contains(where: { $0.id == again && $0.status == .pending })
        {
            notice = "Delivery \(again) is queued again."
        }
        var data = DashboardPages.webhookRow(endpoint)
        data["deliveries"] = deliveries.map(DashboardPages.deliveryRow)
        data["webhookID"] = endpoint.id
        if let notice { data["notice"] = notice }
        return pages.page("webhook", title: "Webhook \(endpoint.id)", data: data, signedIn: signedIn)
    }

    func deleteWebhook(_ request: Request, context: Context, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(TokenForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let endpoint = try await visibleWebhook(context, signedIn, webhooks) else { return webhookNotFound(signedIn) }
        do {
            try await webhooks.delete(endpoint.id, by: signedIn.principal)
        } catch let error as CoordinatorError where error.kind == .notFound {
            return webhookNotFound(signedIn)
        }
        return DashboardPages.redirect("/dashboard/webhooks?deleted=1")
    }

    func testWebhook(_ request: Request, context: Context, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(TokenForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let endpoint = try await visibleWebhook(context, signedIn, webhooks) else { return webhookNotFound(signedIn) }
        let event = try await webhooks.sendTest(endpoint.id, by: signedIn.principal)
        return DashboardPages.redirect("/dashboard/webhooks/\(endpoint.id)?tested=\(event.id)")
    }

    func redeliverWebhook(_ request: Request, context: Context, webhooks: WebhookService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(TokenForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let endpoint = try await visibleWebhook(context, signedIn, webhooks),
            let deliveryID = context.parameters.get("delivery_id")
        else { return webhookNotFound(signedIn) }
        do {
            let delivery = try await webhooks.redeliver(deliveryID, of: endpoint.id, by: signedIn.principal)
            return DashboardPages.redirect("/dashboard/webhooks/\(endpoint.id)?redelivered=\(delivery.id)")
        } catch let error as CoordinatorError where error.kind == .notFound {
            return pages.message(
                heading: "No such delivery", text: "This endpoint has no delivery with that id.",
                link: ("/dashboard/webhooks/\(endpoint.id)", "Back to the endpoint"), status: .notFound,
                signedIn: signedIn)
        }
    }

    /// The endpoint named in the path if the account's tenant owns it.
    func visibleWebhook(_ context: Context, _ signedIn: SignedIn, _ webhooks: WebhookService) async throws -> WebhookEndpoint? {
        guard let id = context.parameters.get("webhook_id") else { return nil }
        do {
            return try await webhooks.get(id, by: signedIn.principal)
        } catch let error as CoordinatorError where error.kind == .notFound {
            return nil
        }
    }

    func webhookNotFound(_ signedIn: SignedIn) -> Response {
        pages.message(
            heading: "No such endpoint", text: "This tenant has no webhook endpoint with that id.",
            link: ("/dashboard/webhooks", "Back to webhooks"), status: .notFound, signedIn: signedIn)
    }
}

import AITBCWire
import Foundation
import Logging

/// A tenant's webhook endpoints: create, list, change, delete, rotate the secret, send a test,
/// read and resend deliveries. Master keys (`webhooks:read` / `webhooks:write`) of the tenant, or an
/// operator acting in it; another tenant's endpoint is 404, as if it did not exist.
public struct WebhookService: Sendable {
    let store: any WebhookStore
    let resolver: any WebhookAddressResolver
    let time: any TimeSource
    let secrets: any SecretSource
    let settings: WebhookSettings
    let bus: any ClusterBus
    let logger: Logger

    /// The most endpoints one tenant may have.
    public static let maximumEndpointsPerTenant = 20
    /// The longest grace period a rotation may give the old secret.
    public static let maximumGracePeriodSeconds = 7 * 24 * 3600

    public init(
        store: any WebhookStore, resolver: any WebhookAddressResolver, time: any TimeSource, secrets: any SecretSource,
        settings: WebhookSettings, bus: any ClusterBus, logger: Logger
    ) {
        self.store = store
        self.resolver = resolver
        self.time = time
        self.secrets = secrets
        self.settings = settings
        self.bus = bus
        self.logger = logger
    }

    /// An endpoint as created or rotated, with its secret (shown this once).
    public struct Issued: Sendable {
        public var endpoint: WebhookEndpoint
        public var secret: String
    }

    public func create(url: String, events: [String], description: String?, by caller: Principal) async throws -> Issued {
        try caller.require(.webhooksWrite)
        let tenantID = try actingTenant(of: caller)
        let types = try Self.eventTypes(events)
        try await checkTarget(url)
        try Self.checkDescription(description)
        guard try await store.webhookEndpoints(tenantID: tenantID).count < Self.maximumEndpointsPerTenant else {
            throw CoordinatorError.invalidField(
                "url", "a tenant has at most \(Self.maximumEndpointsPerTenant) webhook endpoints")
        }
        let secret = newSecret()
        let endpoint = WebhookEndpoint(
            id: "we_" + secrets.base62(count: 20), tenantID: tenantID, url: url, events: types, description: description,
            secret: secret, createdAt: Date(unixMilliseconds: time.now().unixMilliseconds))
        try await store.insertWebhookEndpoint(endpoint)
        await subscriptionsChanged()
        return Issued(endpoint: endpoint, secret: secret)
    }

    public func list(by caller: Principal) async throws -> [WebhookEndpoint] {
        try caller.require(.webhooksRead)
        return try await store.webhookEndpoints(tenantID: try actingTenant(of: caller))
    }

    public func get(_ id: String, by caller: Principal) async throws -> WebhookEndpoint {
        try caller.require(.webhooksRead)
        return try await visible(id, to: caller)
    }

    /// Changes url, events, description and whether it is enabled (re-enabling forgets past failures).
    public func update(
        _ id: String, url: String?, events: [String]?, description: String??, enabled: Bool?, by caller: Principal
    ) async throws -> WebhookEndpoint {
        try caller.require(.webhooksWrite)
        var endpoint = try await visible(id, to: caller)
        if let url {
            try await checkTarget(url)
            endpoint.url = url
        }
        if let events { endpoint.events = try Self.eventTypes(events) }
        if let description {
            try Self.checkDescription(description)
            endpoint.description = description
        }
        if let enabled, enabled != endpoint.isEnabled {
            endpoint.disabledAt = enabled ? nil : time.now()
            endpoint.failingSince = nil
        }
        guard try await store.updateWebhookEndpoint(endpoint) else { throw Self.missing }
        await subscriptionsChanged()
        return endpoint
    }

    public func delete(_ id: String, by caller: Principal) async throws {
        try caller.require(.webhooksWrite)
        _ = try await visible(id, to: caller)
        guard try await store.deleteWebhookEndpoint(id: id) else { throw Self.missing }
        await subscriptionsChanged()
    }

    /// A new secret; the old one also signs for `gracePeriodSeconds` (default 24 hours, at most 7 days).
    public func rotateSecret(_ id: String, gracePeriodSeconds: Int?, by caller: Principal) async throws -> Issued {
        try caller.require(.webhooksWrite)
        let grace = gracePeriodSeconds ?? 24 * 3600
        guard (0...Self.maximumGracePeriodSeconds).contains(grace) else {
            throw CoordinatorError.invalidField(
                "grace_period_seconds", "grace_period_seconds must be 0 … \(Self.maximumGracePeriodSeconds)")
        }
        var endpoint = try await visible(id, to: caller)
        let secret = newSecret()
        endpoint.previousSecret = grace > 0 ? endpoint.secret : nil
        endpoint.previousSecretValidUntil = grace > 0 ? time.now().addingTimeInterval(TimeInterval(grace)) : nil
        endpoint.secret = secret
        guard try await store.updateWebhookEndpoint(endpoint) else { throw Self.missing }
        return Issued(endpoint: endpoint, secret: secret)
    }

    /// Queues a `webhook.test` event for this endpoint only; returns it.
    public func sendTest(_ id: String, by caller: Principal) async throws -> WebhookEvent {
        try caller.require(.webhooksWrite)
        let endpoint = try await visible(id, to: caller)
        let event = WebhookEvent(
            id: WebhookEvent.newID(), tenantID: endpoint.tenantID, type: .test, createdAt: time.now(),
            data: ["webhook_id": .string(endpoint.id), "message": .string("A test event from AITBC")])
        try await store.insertWebhookEvent(event, endpointID: endpoint.id)
        return event
    }

    public func deliveries(
        of id: String, by caller: Principal, after cursor: ListCursor?, limit: Int
    ) async throws -> [WebhookDelivery] {
        try caller.require(.webhooksRead)
        let endpoint = try await visible(id, to: caller)
        return try await store.webhookDeliveries(endpointID: endpoint.id, after: cursor, limit: limit)
    }

    /// Makes a delivery of this endpoint pending and due now.
    public func redeliver(_ deliveryID: String, of id: String, by caller: Principal) async throws -> WebhookDelivery {
        try caller.require(.webhooksWrite)
        let endpoint = try await visible(id, to: caller)
        guard let delivery = try await store.webhookDelivery(id: deliveryID), delivery.endpointID == endpoint.id,
            try await store.redeliverWebhook(id: deliveryID, at: time.now()),
            let updated = try await store.webhookDelivery(id: deliveryID)
        else { throw CoordinatorError.notFound(.notFound, "No such delivery") }
        return updated
    }

    /// Reloads which (tenant, type) pairs write events from storage.
    public func refreshSubscriptions() async {
        do {
            store.webhookOutbox.replace(with: try await store.webhookSubscriptions())
        } catch {
            logger.warning("could not read webhook subscriptions; will retry", metadata: ["error": "\(error)"])
        }
    }

    func subscriptionsChanged() async {
        await refreshSubscriptions()
        await bus.publish(.webhooksChanged)
    }

    func visible(_ id: String, to caller: Principal) async throws -> WebhookEndpoint {
        guard let endpoint = try await store.webhookEndpoint(id: id), caller.canSee(tenantID: endpoint.tenantID) else {
            throw Self.missing
        }
        return endpoint
    }

    func actingTenant(of caller: Principal) throws -> String {
        guard let tenantID = caller.actingTenantID else {
            throw CoordinatorError.invalidField("X-Tenant-ID", "an operator names the tenant with X-Tenant-ID")
        }
        return tenantID
    }

    func checkTarget(_ url: String) async throws {
        let (host, port) = try settings.targets.validate(url: url)
        if settings.targets.allowPrivate { return }
        let addresses: [IPAddress]
        if let literal = IPAddress(host) {
            addresses = [literal]
        } else {
            do { addresses = try await resolver.addresses(host: host, port: port) } catch {
                throw CoordinatorError.invalidField("url", "url's host does not resolve")
            }
        }
        try settings.targets.check(addresses)
    }

    func newSecret() -> String { "whsec_" + secrets.base62(count: 32) }

    static let missing = CoordinatorError.notFound(.notFound, "No such webhook endpoint")

    static func eventTypes(_ names: [String]) throws -> [WebhookEventType] {
        guard !names.isEmpty else { throw CoordinatorError.invalidField("events", "events must name at least one event type") }
        var types: [WebhookEventType] = []
        for name in names {
            guard let type = WebhookEventType(rawValue: name), type != .test else {
                throw CoordinatorError(
                    .invalidRequest, code: .invalidRequest, message: "Unknown event type \(name)",
                    details: ["field": .string("events"), "allowed": .array(WebhookEventType.subscribable.map { .string($0.rawValue) })])
            }
            if !types.contains(type) { types.append(type) }
        }
        return types.sorted { $0.rawValue < $1.rawValue }
    }

    static func checkDescription(_ description: String?) throws {
        if let description, description.count > 500 {
            throw CoordinatorError.invalidField("description", "description must be at most 500 characters")
        }
    }
}

import AITBCDomain
import Foundation
import Logging
import ServiceLifecycle

/// Runs a ``WebhookDeliverer`` over HTTP clients made while it runs and shut down when it stops
/// (a coordinator whose services never run holds no client).
struct WebhookDeliveryService: Service {
    let store: any WebhookStore
    let resolver: any WebhookAddressResolver
    let time: any TimeSource
    let settings: WebhookSettings
    let logger: Logger
    let refresh: @Sendable () async -> Void

    func run() async throws {
        let clients = PinnedHTTPClients(connectTimeout: settings.timeout)
        let deliverer = WebhookDeliverer(
            store: store, transport: HTTPWebhookTransport(clients: clients, resolver: resolver), time: time,
            settings: settings, logger: logger, housekeeping: refresh)
        try? await deliverer.run()
        await clients.shutdown()
    }
}

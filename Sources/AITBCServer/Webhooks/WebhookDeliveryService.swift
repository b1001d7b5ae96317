import AITBCDomain
import Foundation
import Logging
import ServiceLifecycle

/// Runs a ``WebhookDeliverer`` over an HTTP client made when it starts and shut down when it stops
/// (a coordinator whose services never run holds no client).
struct WebhookDeliveryService: Service {
    let store: any WebhookStore
    let resolver: any WebhookAddressResolver
    let time: any TimeSource
    let settings: WebhookSettings
    let logger: Logger
    let refresh: @Sendable () async -> Void

    func run() async throws {
        let client = HTTPWebhookTransport.makeClient()
        let deliverer = WebhookDeliverer(
            store: store, transport: HTTPWebhookTransport(client: client, resolver: resolver), time: time,
            settings: settings, logger: logger, housekeeping: refresh)
        try? await deliverer.run()
        try? await client.shutdown()
    }
}

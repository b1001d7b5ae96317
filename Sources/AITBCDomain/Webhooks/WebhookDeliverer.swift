import AITBCWire
import Foundation
import Logging
import ServiceLifecycle

/// Sends due webhook deliveries: woken at once when this instance writes an event, and polling as
/// the backstop (for other instances' events and retries). Each delivery is claimed for a lease
/// first, so on a shared store one instance sends it. A 2xx answer delivers; anything else, or no
/// answer within the timeout, is retried with exponential back-off and jitter until the retry window
/// from the event has passed. An endpoint failing for ``WebhookSettings/disableAfter`` is disabled
/// with an audit event.
public struct WebhookDeliverer: Service {
    let store: any WebhookStore
    let transport: any WebhookTransport
    let time: any TimeSource
    let settings: WebhookSettings
    let logger: Logger
    /// Runs now and then (every 30 s): reloads the subscriptions, sweeps key-expiry notices.
    let housekeeping: @Sendable () async -> Void

    /// The most deliveries claimed (and sent at once) in one round.
    static let batch = 16

    public init(
        store: any WebhookStore, transport: any WebhookTransport, time: any TimeSource, settings: WebhookSettings,
        logger: Logger, housekeeping: @escaping @Sendable () async -> Void
    ) {
        self.store = store
        self.transport = transport
        self.time = time
        self.settings = settings
        self.logger = logger
        self.housekeeping = housekeeping
    }

    public func run() async throws {
        await housekeeping()
        await cancelWhenGracefulShutdown {
            var lastHousekeeping = ContinuousClock.now
            while !Task.isCancelled {
                await writePending()
                await deliverDue()
                if ContinuousClock.now - lastHousekeeping > .seconds(30) {
                    await housekeeping()
                    lastHousekeeping = .now
                }
                await withTaskGroup(of: Void.self) { group in
                    group.addTask { try? await Task.sleep(for: settings.pollInterval) }
                    group.addTask { await store.webhookOutbox.waitForEvent() }
                    await group.next()
                    group.cancelAll()
                }
            }
        }
    }

    /// Writes the events recorded in memory (rate limits hit) to the outbox.
    func writePending() async {
        for event in store.webhookOutbox.takePending() {
            do { try await store.insertWebhookEvent(event, endpointID: nil) } catch {
                logger.warning("could not write a webhook event; dropped", metadata: ["type": "\(event.type.rawValue)"])
            }
        }
    }

    /// Claims and sends due deliveries until none is due.
    public func deliverDue() async {
        while !Task.isCancelled {
            let now = time.now()
            let lease = now.addingTimeInterval(settings.timeout.timeInterval + 5)
            let claimed: [ClaimedWebhookDelivery]
            do {
                claimed = try await store.claimWebhookDeliveries(now: now, leaseUntil: lease, limit: Self.batch)
            } catch {
                logger.warning("could not claim webhook deliveries; will retry", metadata: ["error": "\(error)"])
                return
            }
            await withTaskGroup(of: Void.self) { group in
                for delivery in claimed { group.addTask { await send(delivery) } }
            }
            if claimed.count < Self.batch { return }
        }
    }

    /// Makes one attempt of `claimed` and records it.
    func send(_ claimed: ClaimedWebhookDelivery) async {
        let started = time.now()
        let response: WebhookResponse
        if claimed.endpoint.isEnabled {
            let body = claimed.event.body
            let timestamp = Int64(started.timeIntervalSince1970)
            let headers = [
                ("Content-Type", "application/json"), ("User-Agent", "AITBC-Webhooks/1"),
                ("AITBC-Event-ID", claimed.event.id),
                ("AITBC-Signature", WebhookSignature.header(
                    body: body, secrets: claimed.endpoint.signingSecrets(at: started), timestamp: timestamp)),
            ]
            response = await transport.post(
                url: claimed.endpoint.url, headers: headers, body: body, policy: settings.targets, timeout: settings.timeout)
        } else {
            response = .failed("endpoint disabled")
        }
        let outcome = Self.outcome(
            of: claimed, response: response, started: started, finished: time.now(), settings: settings,
            jitter: Double.random(in: 0...1))
        do {
            try await store.recordWebhookAttempt(outcome)
        } catch {
            logger.warning(
                "could not record a webhook attempt; it will be retried after its lease",
                metadata: ["delivery": "\(claimed.delivery.id)", "error": "\(error)"])
        }
    }

    /// What an attempt's `response` makes of the delivery and its endpoint.
    static func outcome(
        of claimed: ClaimedWebhookDelivery, response: WebhookResponse, started: Date, finished: Date,
        settings: WebhookSettings, jitter: Double
    ) -> WebhookAttemptOutcome {
        var delivery = claimed.delivery
        let attempt = delivery.attempts + 1
        let latency = max(0, Int((finished.timeIntervalSince(started) * 1000).rounded()))
        var statusCode: Int?
        var error: String?
        switch response {
        case .status(let code):
            statusCode = code
            if !(200..<300).contains(code) { error = "HTTP \(code)" }
        case .failed(let reason):
            error = reason
        }
        let succeeded = error == nil
        var next: Date?
        if succeeded {
            delivery.status = .delivered
            delivery.deliveredAt = finished
        } else if claimed.endpoint.isEnabled {
            let retry = finished.addingTimeInterval(settings.retryDelay(afterAttempt: attempt, unit: jitter))
            if retry.timeIntervalSince(claimed.event.createdAt) <= settings.retryWindow.timeInterval {
                next = retry
                delivery.status = .pending
            } else {
                delivery.status = .failed
            }
        } else {
            delivery.status = .failed
        }
        delivery.attempts = attempt
        delivery.lastStatusCode = statusCode
        delivery.lastLatencyMilliseconds = latency
        delivery.lastError = error
        delivery.nextAttemptAt = next
        delivery.log = Array(
            (delivery.log + [
                WebhookAttempt(
                    attempt: attempt, at: started, statusCode: statusCode, latencyMilliseconds: latency, error: error,
                    nextAttemptAt: next)
            ]).suffix(WebhookAttempt.kept))
        var disabling: AuditEvent?
        if !succeeded, claimed.endpoint.isEnabled, let since = claimed.endpoint.failingSince,
            finished.timeIntervalSince(since) >= settings.disableAfter.timeInterval
        {
            disabling = AuditEvent(
                id: "evt_" + SystemSecretSource().base62(count: 22), kind: .webhookDisabled,
                tenantID: claimed.endpoint.tenantID, actorKeyID: nil, targetID: claimed.endpoint.id, createdAt: finished,
                data: ["url": .string(claimed.endpoint.url), "failing_since": .string(RFC3339.string(from: since))])
        }
        return WebhookAttemptOutcome(delivery: delivery, succeeded: succeeded, at: finished, disabling: disabling)
    }
}

import AITBCWire
import Foundation
import Testing

@testable import AITBCDomain

/// What one attempt makes of a delivery: delivered on 2xx; otherwise the next try doubles with
/// jitter until 24 hours after the event; an endpoint failing for 3 days is disabled.
@Suite struct WebhookRetryTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    static let settings = WebhookSettings(retryBase: .seconds(30))

    static func claimed(attempts: Int, eventAge: TimeInterval, failingFor: TimeInterval?) -> ClaimedWebhookDelivery {
        let event = WebhookEvent(
            id: "evt_1", tenantID: "t1", type: .keyRevoked, createdAt: start.addingTimeInterval(-eventAge), data: [:])
        let endpoint = WebhookEndpoint(
            id: "we_1", tenantID: "t1", url: "https://example.com/", events: [.keyRevoked], description: nil,
            secret: "whsec_1", createdAt: start.addingTimeInterval(-30 * 86400),
            failingSince: failingFor.map { start.addingTimeInterval(-$0) })
        let delivery = WebhookDelivery(
            id: "dlv_1", eventID: "evt_1", endpointID: "we_1", tenantID: "t1", eventType: .keyRevoked, status: .pending,
            attempts: attempts, lastStatusCode: nil, lastLatencyMilliseconds: nil, lastError: nil, nextAttemptAt: start,
            createdAt: event.createdAt, deliveredAt: nil, log: [])
        return ClaimedWebhookDelivery(delivery: delivery, event: event, endpoint: endpoint)
    }

    static func outcome(_ claimed: ClaimedWebhookDelivery, _ response: WebhookResponse, jitter: Double = 0.5)
        -> WebhookAttemptOutcome
    {
        WebhookDeliverer.outcome(
            of: claimed, response: response, started: start, finished: start.addingTimeInterval(0.25), settings: settings,
            jitter: jitter)
    }

    @Test func a2xxAnswerDeliversAndClearsTheEndpointsFailures() {
        let result = Self.outcome(Self.claimed(attempts: 2, eventAge: 60, failingFor: 3600), .status(204))
        #expect(result.succeeded)
        #expect(result.delivery.status == .delivered)
        #expect(result.delivery.attempts == 3)
        #expect(result.delivery.nextAttemptAt == nil)
        #expect(result.delivery.lastLatencyMilliseconds == 250)
        #expect(result.disabling == nil)
    }

    @Test func eachRetryDoublesWithinItsJitter() {
        for (attempts, base) in [(0, 30.0), (1, 60.0), (2, 120.0), (5, 960.0)] {
            for jitter in [0.0, 1.0] {
                let result = Self.outcome(Self.claimed(attempts: attempts, eventAge: 0, failingFor: nil), .status(500), jitter: jitter)
                let delay = try! #require(result.delivery.nextAttemptAt).timeIntervalSince(Self.start.addingTimeInterval(0.25))
                #expect(abs(delay - base * (0.8 + 0.4 * jitter)) < 0.001, "attempt \(attempts + 1), jitter \(jitter): \(delay)")
                #expect(result.delivery.status == .pending)
                #expect(result.delivery.log.last?.statusCode == 500)
            }
        }
        // A redirect is not followed: it is a failure like any other non-2xx.
        #expect(Self.outcome(Self.claimed(attempts: 0, eventAge: 0, failingFor: nil), .status(302)).delivery.status == .pending)
    }

    @Test func retriesStopTwentyFourHoursAfterTheEvent() {
        let late = Self.outcome(Self.claimed(attempts: 12, eventAge: 23.9 * 3600, failingFor: nil), .failed("timeout"))
        #expect(late.delivery.status == .failed)
        #expect(late.delivery.nextAttemptAt == nil)
        #expect(late.delivery.lastError == "timeout")
    }

    @Test func anEndpointFailingForThreeDaysIsDisabledWithAnAuditEvent() {
        let younger = Self.outcome(Self.claimed(attempts: 1, eventAge: 60, failingFor: 2.9 * 86400), .status(503))
        #expect(younger.disabling == nil)
        let older = Self.outcome(Self.claimed(attempts: 1, eventAge: 60, failingFor: 3 * 86400), .status(503))
        let audit = try! #require(older.disabling)
        #expect(audit.kind == .webhookDisabled)
        #expect(audit.targetID == "we_1")
        #expect(audit.tenantID == "t1")
    }

    @Test func theSignatureHeaderCarriesOneV1PerSigningSecret() {
        let header = WebhookSignature.header(body: "{}", secrets: ["a", "b"], timestamp: 1_795_000_000)
        let parts = header.split(separator: ",")
        #expect(parts.first == "t=1795000000")
        #expect(parts.filter { $0.hasPrefix("v1=") }.count == 2)
        // HMAC-SHA256(key "a", "1795000000.{}") as Python's hmac module computes it.
        #expect(parts[1] == "v1=e2506141d4f828aa19e3a47bec5e068f8fe1e7c059d57ebc2148870f2c780d70")
    }

    @Test func internalAddressesAreRecognisedInEveryForm() {
        for text in [
            "127.0.0.1", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "::1",
            "::", "fe80::1", "fc00::1", "fd12:3456::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254",
            "224.0.0.1", "ff02::1",
        ] {
            #expect(WebhookTargetPolicy.isInternal(IPAddress(text)!), "\(text)")
        }
        for text in ["93.184.215.14", "8.8.8.8", "2606:4700::1111", "172.32.0.1", "::ffff:8.8.8.8"] {
            #expect(!WebhookTargetPolicy.isInternal(IPAddress(text)!), "\(text)")
        }
    }
}

import AITBCDomain
import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import AITBCServer

/// DNS rebinding: a delivery connects to the address its check resolved, never to a second answer
/// for the same name. The names end in `.invalid`, which no real resolver answers, so a request
/// that arrives proves the connection used the scripted answer and nothing else.
@Suite struct WebhookPinningTests {
    /// Answers each lookup with the next of `answers` (the last one again once they run out), counting lookups.
    final class ScriptedResolver: WebhookAddressResolver {
        private let state: Mutex<(answers: [[IPAddress]], lookups: Int)>

        init(_ answers: [[String]]) {
            state = Mutex((answers.map { $0.map { IPAddress($0)! } }, 0))
        }

        var lookups: Int { state.withLock { $0.lookups } }

        func addresses(host: String, port: Int) async throws -> [IPAddress] {
            state.withLock { state in
                state.lookups += 1
                return state.answers.count > 1 ? state.answers.removeFirst() : state.answers[0]
            }
        }
    }

    static let open = WebhookTargetPolicy(requireHTTPS: false, allowPrivate: true)
    static let guarded = WebhookTargetPolicy(requireHTTPS: false, allowPrivate: false)

    @Test func theConnectionGoesToTheCheckedAddressAndANewAnswerGetsItsOwnConnection() async throws {
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            let resolver = ScriptedResolver([["127.0.0.1"], ["127.0.0.2"]])
            // Bounds for a loaded machine: what is proved is where the request went, not how fast.
            let clients = PinnedHTTPClients(connectTimeout: .seconds(30))
            let transport = HTTPWebhookTransport(clients: clients, resolver: resolver)
            let url = "http://rebind.invalid:\(port)/hook"
            let first = await transport.post(url: url, headers: [], body: "{}", policy: Self.open, timeout: .seconds(30))
            #expect(first == .status(200))
            #expect(resolver.lookups == 1)
            #expect(receiver.received.count == 1)
            // The request still names the host, not the address it was sent to.
            #expect(receiver.received.first?.host == "rebind.invalid:\(port)")

            // The name now answers another address: the next delivery goes there (nothing listens), not
            // to the connection the earlier answer opened.
            let second = await transport.post(url: url, headers: [], body: "{}", policy: Self.open, timeout: .seconds(5))
            #expect(second != .status(200))
            #expect(resolver.lookups == 2)
            #expect(receiver.received.count == 1)
            #expect(
                clients.targets == [
                    .init(host: "rebind.invalid", address: "127.0.0.1"), .init(host: "rebind.invalid", address: "127.0.0.2"),
                ])
            await clients.shutdown()
        }
    }

    @Test func aNameThatAnswersPublicAtTheCheckAndLoopbackLaterNeverReachesLoopback() async throws {
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            let clients = PinnedHTTPClients(connectTimeout: .seconds(1))
            for scheme in ["http", "https"] {
                // A hostile name server: a public address to the check, loopback to any later lookup.
                let resolver = ScriptedResolver([["203.0.113.7"], ["127.0.0.1"]])
                let transport = HTTPWebhookTransport(clients: clients, resolver: resolver)
                let reply = await transport.post(
                    url: "\(scheme)://rebind.invalid:\(port)/hook", headers: [], body: "{}", policy: Self.guarded,
                    timeout: .seconds(2))
                #expect(reply != .status(200), "\(scheme)")
                #expect(resolver.lookups == 1, "\(scheme)")
            }
            // Each attempt connected only to the public answer of its own check.
            #expect(receiver.received.isEmpty)
            #expect(clients.targets == [.init(host: "rebind.invalid", address: "203.0.113.7")])
            await clients.shutdown()
        }
    }

    @Test func aPercentEncodedOrInternationalHostIsPinnedUnderTheNameTheClientLooksUp() async throws {
        let receiver = WebhookReceiver()
        try await receiver.listening { port in
            // The HTTP client looks its pin up by `URL.host`, which decodes percent-escapes and writes an
            // international name in punycode: the delivery resolves and pins that same name, so the
            // request arrives (no real resolver answers `.invalid`) and nothing is resolved twice.
            for (url, name) in [
                ("http://rebind%2Einvalid:\(port)/hook", "rebind.invalid"),
                ("http://rébind.invalid:\(port)/hook", "xn--rbind-bsa.invalid"),
            ] {
                let resolver = ScriptedResolver([["127.0.0.1"]])
                let clients = PinnedHTTPClients(connectTimeout: .seconds(30))
                let transport = HTTPWebhookTransport(clients: clients, resolver: resolver)
                let answer = await transport.post(url: url, headers: [], body: "{}", policy: Self.open, timeout: .seconds(30))
                #expect(answer == .status(200), "\(url)")
                #expect(resolver.lookups == 1, "\(url)")
                #expect(clients.targets == [.init(host: name, address: "127.0.0.1")], "\(url)")
                await clients.shutdown()
            }
            #expect(receiver.received.count == 2)
            // A host that is no ASCII name once decoded (`URL.host` decodes escaped UTF-8 without
            // punycode) is refused before any lookup.
            let resolver = ScriptedResolver([["127.0.0.1"]])
            let transport = HTTPWebhookTransport(clients: PinnedHTTPClients(), resolver: resolver)
            for url in ["http://a%21b.invalid:\(port)/", "http://r%C3%A9bind.invalid:\(port)/hook"] {
                let odd = await transport.post(url: url, headers: [], body: "{}", policy: Self.open, timeout: .seconds(5))
                #expect(odd == .failed("invalid url"), "\(url)")
            }
            #expect(resolver.lookups == 0)
            #expect(receiver.received.count == 2)
        }
    }

    /// A TCP listener on 127.0.0.1 that counts the connections it accepts and closes each at once.
    final class ConnectionCounter: Sendable {
        let accepted = Mutex(0)
    }

    @Test func anHTTPSDeliveryConnectsToTheCheckedAddressWithoutResolvingTheNameAgain() async throws {
        let counter = ConnectionCounter()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                counter.accepted.withLock { $0 += 1 }
                return channel.close()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(listener.localAddress?.port)
        let resolver = ScriptedResolver([["127.0.0.1"]])
        let clients = PinnedHTTPClients(connectTimeout: .seconds(30))
        let transport = HTTPWebhookTransport(clients: clients, resolver: resolver)
        // The client retries the failing handshake until the delivery's deadline: 5 s, not 30 (the first
        // attempt is what is checked).
        let reply = await transport.post(
            url: "https://rebind.invalid:\(port)/hook", headers: [], body: "{}", policy: Self.open, timeout: .seconds(5))
        // The listener closes at once, so the TLS handshake fails; but it was reached, on the checked
        // address, which no lookup of the name itself could have given.
        #expect(reply != .status(200))
        #expect(counter.accepted.withLock { $0 } >= 1)
        #expect(resolver.lookups == 1)
        await clients.shutdown()
        try await listener.close()
    }
}

import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import Synchronization

/// A webhook as the receiver got it.
struct ReceivedWebhook: Sendable {
    var body: String
    var signature: String
    var eventID: String
    var userAgent: String
    var contentType: String
    var host: String = ""
}

/// A real HTTP server on a loopback port that records every webhook POSTed to `/hook` and answers
/// each with the next status of ``answers`` (200 once they run out).
final class WebhookReceiver: Sendable {
    private let state = Mutex<(received: [ReceivedWebhook], answers: [Int])>(([], []))

    var received: [ReceivedWebhook] { state.withLock { $0.received } }

    /// Answers the next requests with these statuses, in order.
    func answer(_ statuses: [Int]) { state.withLock { $0.answers += statuses } }

    /// Runs `body` with the receiver listening on `port` (0: any free one), given the port; stops it after.
    func listening<T: Sendable>(
        port: Int = 0, _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        let router = Router()
        router.post("hook") { [self] request, _ -> Response in
            let buffer = try await request.body.collect(upTo: 1 << 20)
            let headers = request.headers
            func header(_ name: String) -> String { headers[HTTPField.Name(name)!] ?? "" }
            let webhook = ReceivedWebhook(
                body: String(buffer: buffer), signature: header("AITBC-Signature"), eventID: header("AITBC-Event-ID"),
                userAgent: header("User-Agent"), contentType: header("Content-Type"), host: request.head.authority ?? header("Host"))
            let status = state.withLock { state -> Int in
                state.received.append(webhook)
                return state.answers.isEmpty ? 200 : state.answers.removeFirst()
            }
            return Response(status: .init(code: status))
        }
        let bound = Mutex<Int?>(nil)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)),
            onServerRunning: { channel in bound.withLock { $0 = channel.localAddress?.port } })
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.runService() }
            let deadline = ContinuousClock.now + .seconds(10)
            while bound.withLock({ $0 }) == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
            guard let port = bound.withLock({ $0 }) else { throw HarnessError(description: "the receiver did not start") }
            defer { group.cancelAll() }
            return try await body(port)
        }
    }
}

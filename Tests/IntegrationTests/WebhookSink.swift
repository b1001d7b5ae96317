import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A minimal HTTP server on a loopback port that records the `AITBC-Event-ID` and body of every
/// request and answers 200: the receiving end of webhooks from coordinator processes.
final class WebhookSink: Sendable {
    private let received = Mutex<[(eventID: String, body: String)]>([])
    private let channel: Mutex<(any Channel)?> = Mutex(nil)

    /// Event ids received so far, in order of arrival (repeated if delivered more than once).
    var eventIDs: [String] { received.withLock { $0.map(\.eventID) } }
    var bodies: [String] { received.withLock { $0.map(\.body) } }

    /// Starts listening on `port`; returns the port.
    @discardableResult
    func start(port: Int) async throws -> Int {
        let sink = self
        let bound = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMap {
                    channel.pipeline.addHandler(Handler(sink: sink))
                }
            }
            .bind(host: "127.0.0.1", port: port).get()
        channel.withLock { $0 = bound }
        return bound.localAddress?.port ?? port
    }

    func stop() async {
        let open = channel.withLock { channel in defer { channel = nil }; return channel }
        try? await open?.close()
    }

    fileprivate func record(eventID: String, body: String) {
        received.withLock { $0.append((eventID, body)) }
    }

    private final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let sink: WebhookSink
        var eventID = ""
        var body = ""

        init(sink: WebhookSink) { self.sink = sink }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                eventID = head.headers["AITBC-Event-ID"].first ?? ""
                body = ""
            case .body(let buffer):
                body += String(buffer: buffer)
            case .end:
                sink.record(eventID: eventID, body: body)
                var headers = HTTPHeaders()
                headers.add(name: "Content-Length", value: "0")
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}

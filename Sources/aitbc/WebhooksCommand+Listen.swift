import AITBC
import ArgumentParser
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

extension WebhooksCommand {
    /// `aitbc webhooks listen`: a local HTTP server that prints each webhook it receives, for development.
    struct Listen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print webhooks arriving on a local port (verified when --secret is given).",
            discussion: "Point an endpoint at http://127.0.0.1:PORT/ (the server needs AITBC_WEBHOOK_ALLOW_PRIVATE=true for loopback).")
        @Option(help: "The port to listen on (127.0.0.1).") var port: Int = 8787
        @Option(help: "The endpoint's signing secret (whsec_…): each webhook is verified with it.") var secret: String?
        @Option(help: "The address to listen on.") var host: String = "127.0.0.1"

        func run() async throws {
            let secret = self.secret ?? ProcessInfo.processInfo.environment["AITBC_WEBHOOK_SECRET"]
            let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.pipeline.configureHTTPServerPipeline().flatMap {
                        channel.pipeline.addHandler(WebhookPrinter(secret: secret))
                    }
                }
                .bind(host: host, port: port).get()
            Output.note("listening on http://\(host):\(channel.localAddress?.port ?? port)/ — Ctrl-C to stop")
            try await channel.closeFuture.get()
        }
    }
}

/// Prints each request's event (and whether its signature verifies) and answers 200, or 400 when a
/// secret was given and the signature does not verify.
final class WebhookPrinter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    let secret: String?
    private var signature = ""
    private var body = ByteBuffer()

    init(secret: String?) { self.secret = secret }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            signature = head.headers["AITBC-Signature"].first ?? ""
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            let text = String(buffer: body)
            var verdict = "unverified (no --secret)"
            var status = HTTPResponseStatus.ok
            if let secret {
                do {
                    try WebhookVerifier.verify(payload: text, header: signature, secret: secret)
                    verdict = "verified"
                } catch {
                    verdict = "NOT VERIFIED: \(error)"
                    status = .badRequest
                }
            }
            let event = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
            let type = event?["type"] as? String ?? "?"
            let id = event?["id"] as? String ?? "?"
            // Written at once, unbuffered: a developer watches it live, often through a pipe.
            FileHandle.standardOutput.write(Data("\(RFC3339.string(from: Date()))  \(type)  \(id)  \(verdict)\n\(text)\n".utf8))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Length", value: "0")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}

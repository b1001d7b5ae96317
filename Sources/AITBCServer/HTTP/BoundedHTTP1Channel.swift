import HummingbirdCore
import Logging
import NIOCore
import NIOSSL

/// Hummingbird's HTTP/1 channel (optionally behind TLS) with the connection timeouts of
/// ``ConnectionTimeouts`` and, over TLS, ``TLSHandshakeTimeout``. Per connection the pipeline is:
/// TLS handler and its handshake clock, the raw-byte watcher, then Hummingbird's HTTP/1 handlers
/// with ``ConnectionTimeouts`` among them.
struct BoundedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    /// The durations a connection is held to.
    struct Timeouts: Sendable {
        var read: TimeAmount
        var idle: TimeAmount
        var tlsHandshake: TimeAmount
    }

    let responder: HTTPChannelHandler.Responder
    let timeouts: Timeouts
    let tls: NIOSSLContext?

    init(responder: @escaping HTTPChannelHandler.Responder, timeouts: Timeouts, tls: TLSConfiguration?) throws {
        self.responder = responder
        self.timeouts = timeouts
        self.tls = try tls.map { try NIOSSLContext(configuration: $0) }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let timeouts: ConnectionTimeouts
        do {
            let pipeline = channel.pipeline.syncOperations
            if let tls {
                try pipeline.addHandler(NIOSSLServerHandler(context: tls))
                try pipeline.addHandler(TLSHandshakeTimeout(timeout: self.timeouts.tlsHandshake, logger: logger))
            }
            timeouts = ConnectionTimeouts(readTimeout: self.timeouts.read, idleTimeout: self.timeouts.idle, logger: logger)
            try pipeline.addHandler(timeouts.makeInboundBytesWatcher())
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        // Hummingbird builds the HTTP/1 handlers within this call, on this event loop: the handler
        // made here for this connection is handed over in the place it keeps for extra handlers.
        let handler = NIOLoopBound(timeouts, eventLoop: channel.eventLoop)
        let http = HTTP1Channel(
            responder: responder, configuration: .init(additionalChannelHandlers: [handler.value], idleTimeout: nil))
        return http.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}

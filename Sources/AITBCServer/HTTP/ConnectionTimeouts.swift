import Logging
import NIOCore
import NIOHTTPTypes

/// Closes an HTTP/1 connection that stalls, by the rules of ``ConnectionDeadlines``: a head that is
/// not complete in time (a client that sent half a request line, or nothing), a body that pauses,
/// a kept-alive connection idle too long. A request being answered, such as a long-poll, has no
/// deadline.
///
/// It sits among the HTTP parts (after the decoder) to see heads, ends and responses; its
/// ``InboundBytes`` sits before the decoder to see a head's first byte.
final class ConnectionTimeouts: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var deadlines: ConnectionDeadlines
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    private let logger: Logger

    init(readTimeout: TimeAmount, idleTimeout: TimeAmount, logger: Logger) {
        deadlines = ConnectionDeadlines(openedAt: .now(), readTimeout: readTimeout, idleTimeout: idleTimeout)
        self.logger = logger
    }

    /// The handler that tells this one when raw bytes arrive; goes in front of the HTTP decoder
    /// (behind TLS, which it must see decrypted).
    func makeInboundBytesWatcher() -> InboundBytes { InboundBytes(timeouts: self) }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        rearm()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let now = NIODeadline.now()
        switch unwrapInboundIn(data) {
        case .head: deadlines.headArrived(at: now)
        case .body: deadlines.bodyArrived(at: now)
        case .end: deadlines.requestEnded(at: now)
        }
        rearm()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            deadlines.responseEnded(at: .now())
            rearm()
        }
        context.write(data, promise: promise)
    }

    fileprivate func bytesArrived() {
        deadlines.bytesArrived(at: .now())
        rearm()
    }

    /// Makes sure a timer fires no later than the current deadline. A deadline that moved later
    /// keeps the earlier timer, which re-arms when it fires. The timer is set at most a read timeout
    /// ahead, so that the next request's deadlines (each at least a read timeout after its event)
    /// never come before it: a request on a kept-alive connection schedules nothing.
    private func rearm() {
        guard let context, let deadline = deadlines.deadline?.at else { return }
        if let timerDeadline, timer != nil, timerDeadline <= deadline { return }
        timer?.cancel()
        let fireAt = min(deadline, .now() + deadlines.readTimeout)
        timerDeadline = fireAt
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: fireAt) { [self] in
            timer = nil
            timerDeadline = nil
            expire()
        }
    }

    private func expire() {
        guard let context, let (deadline, stall) = deadlines.deadline else { return }
        guard deadline <= .now() else {
            rearm()
            return
        }
        logger.debug("closing a stalled connection", metadata: ["reason": .string(stall.rawValue)])
        context.close(promise: nil)
    }

    /// Passes raw bytes on, telling ``ConnectionTimeouts`` that some arrived; and remembers whether
    /// the client has closed its side, for a long-poll that starts watching only later
    /// (``ConnectionPresence``). Used on its event loop only.
    final class InboundBytes: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer

        private let timeouts: ConnectionTimeouts
        /// True once the client closed its side (half-closed: Hummingbird allows it) or the connection.
        private(set) var clientClosed = false

        fileprivate init(timeouts: ConnectionTimeouts) {
            self.timeouts = timeouts
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            timeouts.bytesArrived()
            context.fireChannelRead(data)
        }

        func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
            if let event = event as? ChannelEvent, event == .inputClosed { clientClosed = true }
            context.fireUserInboundEventTriggered(event)
        }

        func channelInactive(context: ChannelHandlerContext) {
            clientClosed = true
            context.fireChannelInactive()
        }
    }
}

@available(*, unavailable)
extension ConnectionTimeouts: Sendable {}

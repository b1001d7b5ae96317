import AITBCDomain
import NIOCore
import NIOSSL
import Synchronization

/// Watches one connection while a long-poll waits on it: when the client closes its side (its HTTP
/// client timed out, the miner stopped) the poll stops waiting, so no job is handed to a request
/// nobody will read. Added to the pipeline only while a poll waits, then removed.
///
/// Hummingbird lets clients half-close, so a client that has gone shows as `inputClosed`, not as an
/// inactive channel; both count. A client that left before the watcher was added is seen too: the
/// connection's ``ConnectionTimeouts/InboundBytes`` (there from the start) saw it close, or the
/// closed channel refuses the watcher.
final class ConnectionPresence: ChannelInboundHandler, RemovableChannelHandler, CallerPresence, Sendable {
    typealias InboundIn = NIOAny

    private struct State {
        var watching = false
        var departed = false
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())
    private let channel: any Channel

    /// A presence for `channel` that watches nothing until ``watch()``: a poll that is answered at
    /// once never touches the pipeline.
    init(channel: any Channel) {
        self.channel = channel
    }

    /// Starts watching (once); a channel that cannot take the watcher has gone already. Over TLS the
    /// watcher sits right behind the TLS handler: a client's close_notify is turned into
    /// `inputClosed` there, while the TCP close may follow only seconds later.
    func watch() async {
        guard state.withLock({ state in
            defer { state.watching = true }
            return !state.watching
        }) else { return }
        let channel = self.channel
        do {
            // On the event loop: an event either came before this (and the checks see it) or comes
            // after (and the watcher sees it).
            let gone = try await channel.eventLoop.submit {
                let pipeline = channel.pipeline.syncOperations
                if let tls = try? pipeline.handler(type: NIOSSLServerHandler.self) {
                    try pipeline.addHandler(self, position: .after(tls))
                } else {
                    try pipeline.addHandler(self, position: .first)
                }
                return (try? pipeline.handler(type: ConnectionTimeouts.InboundBytes.self))?.clientClosed ?? false
            }.get()
            if gone { markDeparted() }
        } catch {
            markDeparted()
        }
    }

    /// Stops watching, taking the watcher off the channel (for the requests that follow on a
    /// kept-alive connection).
    func stop() {
        guard state.withLock({ $0.watching }) else { return }
        channel.pipeline.removeHandler(self, promise: nil)
    }

    var hasDeparted: Bool { state.withLock { $0.departed } }

    func departure() async {
        let id = state.withLock { state -> UInt64? in
            guard !state.departed else { return nil }
            state.nextWaiter += 1
            return state.nextWaiter
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { state -> Bool in
                    if state.departed || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.waiters.removeValue(forKey: id) }?.resume()
        }
    }

    private func markDeparted() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.departed = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.fireChannelRead(data)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { markDeparted() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        markDeparted()
        context.fireChannelInactive()
    }
}

import NIOCore

/// When one HTTP/1 connection must next make progress, or be closed: the state machine behind
/// ``ConnectionTimeouts``, fed with what arrived and what was answered, and asked for the deadline.
///
/// - A request head must be complete within `readTimeout` of its first byte; the first request's
///   clock starts when the connection opens, so a client that connects and sends nothing is closed too.
/// - A request body may pause no longer than `readTimeout` between reads.
/// - While a request is answered (a long-poll waiting for its job) there is no deadline: the client
///   has said everything and is waiting for us.
/// - Between requests, a kept-alive connection may stay silent for `idleTimeout`: longer than the
///   read timeout, so that a proxy's pool of idle upstream connections is not cut under it.
struct ConnectionDeadlines {
    let readTimeout: TimeAmount
    let idleTimeout: TimeAmount

    /// The first byte of a request head that is not complete yet (the opening, for the first one).
    private var headStartedAt: NIODeadline?
    /// The last read of a request body still arriving; nil when no body is being read.
    private var bodyReadAt: NIODeadline?
    /// Requests read (their head at least) whose response has not ended.
    private var unanswered = 0
    /// When the last response ended with nothing else under way.
    private var idleSince: NIODeadline?

    init(openedAt now: NIODeadline, readTimeout: TimeAmount, idleTimeout: TimeAmount) {
        self.readTimeout = readTimeout
        self.idleTimeout = idleTimeout
        headStartedAt = now
    }

    /// What the next deadline is for, in the log line of a connection closed at it.
    enum Stall: String, Equatable {
        case head = "request head not complete"
        case body = "request body paused"
        case idle = "idle between requests"
    }

    /// The moment the connection is closed unless something happens first, and why; nil while a
    /// response is being prepared.
    var deadline: (at: NIODeadline, stall: Stall)? {
        if let bodyReadAt { return (bodyReadAt + readTimeout, .body) }
        if let headStartedAt { return (headStartedAt + readTimeout, .head) }
        if unanswered > 0 { return nil }
        return idleSince.map { ($0 + idleTimeout, .idle) }
    }

    /// Raw bytes arrived (before any parsing). Bytes of a head do not extend its clock: a head sent
    /// a byte at a time must still be complete in time.
    mutating func bytesArrived(at now: NIODeadline) {
        if bodyReadAt != nil {
            bodyReadAt = now
        } else if headStartedAt == nil {
            // The first byte of the next request. Bytes of it that came in the same read as the end
            // of the previous request are not seen here: that head gets the idle timeout instead.
            headStartedAt = now
        }
    }

    /// A request head was parsed: its body (if any) is read next.
    mutating func headArrived(at now: NIODeadline) {
        headStartedAt = nil
        bodyReadAt = now
        idleSince = nil
        unanswered += 1
    }

    /// A part of a request body was parsed.
    mutating func bodyArrived(at now: NIODeadline) {
        if bodyReadAt != nil { bodyReadAt = now }
    }

    /// The request was read to its end: the client now waits for the answer (or, when it was
    /// answered before its body was read, the connection is idle).
    mutating func requestEnded(at now: NIODeadline) {
        bodyReadAt = nil
        becomeIdleIfNothingIsUnderWay(at: now)
    }

    /// A response ended; with none left to answer and nothing arriving, the connection is idle.
    mutating func responseEnded(at now: NIODeadline) {
        unanswered = max(0, unanswered - 1)
        becomeIdleIfNothingIsUnderWay(at: now)
    }

    private mutating func becomeIdleIfNothingIsUnderWay(at now: NIODeadline) {
        if unanswered == 0, headStartedAt == nil, bodyReadAt == nil, idleSince == nil { idleSince = now }
    }
}

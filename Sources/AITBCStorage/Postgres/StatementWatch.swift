import PostgresNIO
import Synchronization

/// The deadlines of one call of ``PostgresStore``: a pooled connection within `wait`, then an answer
/// to each statement within `answer` of the previous one (or of the lease). Every step is decided
/// under one lock, so that giving up and getting the connection, or abandoning a statement and its
/// answer arriving, cannot both take effect.
final class StatementWatch: Sendable {
    /// What the watching task does next.
    enum Step {
        case sleep(until: ContinuousClock.Instant)
        /// No connection came in time: the call is not to start.
        case gaveUp
        /// The database stopped answering: fail the statement in flight (if any) and close the connection.
        case abandon(PostgresConnection, pending: PostgresSession.SingleAnswer?)
        /// The call finished, or is already failed.
        case over
    }

    private enum Phase {
        case waiting(since: ContinuousClock.Instant)
        case gaveUp
        case running(PostgresConnection, lastAnswer: ContinuousClock.Instant)
        case abandoned
        case done
    }

    private struct State {
        var phase: Phase
        var pending: PostgresSession.SingleAnswer?
    }

    let wait: Duration
    let answer: Duration
    private let state: Mutex<State>

    init(wait: Duration, answer: Duration) {
        self.wait = wait
        self.answer = answer
        state = Mutex(State(phase: .waiting(since: .now), pending: nil))
    }

    /// Why the call failed, once it gave up waiting or was abandoned.
    var failure: PostgresFailure {
        state.withLock { state in
            if case .abandoned = state.phase { return PostgresFailure.noAnswer(within: answer) }
            return PostgresFailure.noConnection(within: wait)
        }
    }

    /// Whether the call gave up waiting or was abandoned.
    var isOverdue: Bool {
        state.withLock { state in
            switch state.phase {
            case .gaveUp, .abandoned: true
            case .waiting, .running, .done: false
            }
        }
    }

    /// The call got `connection`; false if it had already given up waiting.
    func begin(on connection: PostgresConnection) -> Bool {
        state.withLock { state in
            guard case .waiting = state.phase else { return false }
            state.phase = .running(connection, lastAnswer: .now)
            return true
        }
    }

    /// The call is over; true if it had been abandoned (its connection must not be reused).
    func end() -> Bool {
        state.withLock { state in
            state.pending = nil
            if case .running = state.phase { state.phase = .done }
            if case .abandoned = state.phase { return true }
            return false
        }
    }

    /// The failure a new statement meets at once, if the call was abandoned.
    var abandonment: PostgresFailure? {
        state.withLock { state in
            guard case .abandoned = state.phase else { return nil }
            return PostgresFailure.noAnswer(within: answer)
        }
    }

    /// A statement is waiting for `pending`; if the call was abandoned meanwhile, it fails now.
    func track(_ pending: PostgresSession.SingleAnswer) {
        let abandoned = state.withLock { state -> Bool in
            guard case .abandoned = state.phase else {
                state.pending = pending
                return false
            }
            return true
        }
        if abandoned { pending.resume(with: .failure(PostgresFailure.noAnswer(within: answer))) }
    }

    /// A statement was answered (rows or an error): the next one has `answer` from now.
    func answered() {
        state.withLock { state in
            state.pending = nil
            if case .running(let connection, _) = state.phase { state.phase = .running(connection, lastAnswer: .now) }
        }
    }

    /// What to do at `now`.
    func next(at now: ContinuousClock.Instant) -> Step {
        state.withLock { state in
            switch state.phase {
            case .waiting(let since):
                guard now >= since + wait else { return .sleep(until: since + wait) }
                state.phase = .gaveUp
                return .gaveUp
            case .running(let connection, let lastAnswer):
                guard now >= lastAnswer + answer else { return .sleep(until: lastAnswer + answer) }
                state.phase = .abandoned
                defer { state.pending = nil }
                return .abandon(connection, pending: state.pending)
            case .gaveUp, .abandoned, .done:
                return .over
            }
        }
    }
}

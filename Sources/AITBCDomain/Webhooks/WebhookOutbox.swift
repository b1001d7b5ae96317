import AITBCWire
import Foundation
import Synchronization

/// The in-memory side of the webhook outbox: which (tenant, type) pairs some endpoint subscribes to,
/// so that only those tenants' changes pay for an event row, and the signal that wakes the deliverer
/// when this instance has written an event. Refreshed from storage at start, on endpoint changes,
/// and when another instance says its endpoints changed.
public final class WebhookOutbox: Sendable {
    private let subscriptions = Mutex<Set<WebhookSubscription>>([])
    /// Whether any endpoint subscribes to anything: most deployments have none, and then a change
    /// costs one atomic load.
    private let anySubscription = Atomic<Bool>(false)
    private let wake = WakeSignal()
    /// Events recorded from memory (a rate limit hit), waiting for the deliverer to write them.
    private let pending = Mutex<(minute: Int64, noted: Set<String>, events: [WebhookEvent])>((0, [], []))

    /// The most events waiting to be written; beyond it new ones are dropped (they are notices).
    static let maximumPending = 10_000

    public init() {}

    /// Whether an event of `type` for `tenantID` should be written.
    public func isSubscribed(_ tenantID: String, _ type: WebhookEventType) -> Bool {
        guard anySubscription.load(ordering: .relaxed) else { return false }
        return subscriptions.withLock { $0.contains(WebhookSubscription(tenantID: tenantID, type: type)) }
    }

    /// The tenants subscribed to `type`.
    public func tenants(subscribedTo type: WebhookEventType) -> [String] {
        subscriptions.withLock { $0.filter { $0.type == type }.map(\.tenantID) }
    }

    /// Notes that `key` was refused for its rate limit at `now`: at most one `rate_limit.exceeded`
    /// event per key per minute, kept in memory and written behind by the deliverer.
    public func noteRateLimited(_ key: APIKeyRecord, limit: Int?, retryAfterSeconds: Int?, at now: Date) {
        guard isSubscribed(key.tenantID, .rateLimitExceeded) else { return }
        let minute = Int64(now.timeIntervalSince1970) / 60
        let added = pending.withLock { state -> Bool in
            if state.minute != minute {
                state.minute = minute
                state.noted.removeAll(keepingCapacity: true)
            }
            guard state.events.count < Self.maximumPending, state.noted.insert(key.id).inserted else { return false }
            state.events.append(
                WebhookEvent(
                    id: WebhookEvent.newID(), tenantID: key.tenantID, type: .rateLimitExceeded, createdAt: now,
                    data: [
                        "key_id": .string(key.id), "name": .string(key.name),
                        "limit_per_minute": limit.map(JSONValue.int) ?? .null,
                        "retry_after_seconds": retryAfterSeconds.map(JSONValue.int) ?? .null,
                    ]))
            return true
        }
        if added { wake.signal() }
    }

    /// Takes the events waiting to be written.
    func takePending() -> [WebhookEvent] {
        pending.withLock { state in
            defer { state.events.removeAll() }
            return state.events
        }
    }

    /// A fresh event of `type` from `make` when the tenant is subscribed, else nil (nothing built).
    public func event(
        _ type: WebhookEventType, tenantID: String, _ make: () -> WebhookEvent
    ) -> WebhookEvent? {
        isSubscribed(tenantID, type) ? make() : nil
    }

    /// The event `job`'s new state causes (completed, failed, expired) when its tenant is subscribed.
    public func event(for job: Job) -> WebhookEvent? {
        let type: WebhookEventType
        switch job.state {
        case .completed: type = .jobCompleted
        case .failed: type = .jobFailed
        case .expired: type = .jobExpired
        default: return nil
        }
        guard isSubscribed(job.tenantID, type) else { return nil }
        return WebhookEvent.job(job, type: type, at: job.finishedAt ?? Date())
    }

    /// Replaces the subscriptions with what storage holds.
    public func replace(with pairs: [WebhookSubscription]) {
        let set = Set(pairs)
        subscriptions.withLock { $0 = set }
        anySubscription.store(!set.isEmpty, ordering: .relaxed)
    }

    /// An event was committed on this instance: the deliverer should look now.
    public func eventWritten() { wake.signal() }

    /// Waits until ``eventWritten()`` (since the last wait) or cancellation.
    func waitForEvent() async { await wake.wait() }
}

/// A one-slot wake-up: a signal while nobody waits is kept for the next wait.
final class WakeSignal: Sendable {
    private let state = Mutex<(pending: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func signal() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}

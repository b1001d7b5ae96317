import Foundation
import Synchronization

/// Counters the shared store found spent (PostgreSQL), remembered so that traffic past a quota or a
/// balance is refused from memory instead of by one lease transaction per request, which would queue
/// every other tenant's leases of this instance behind it: the twin of ``RateRefusals``, kept apart
/// because a counter's refusal ends by other means than a rate budget's (a period's end, a top-up)
/// and a balance may still cover a cheaper request.
///
/// A refusal holds while its period is current (a quota's day or month; a balance's refill period)
/// and until a change to its tenant or key is made here or heard of from another instance (a
/// top-up, a plan or quota change; ``MeterLeases/end(for:)``). It only refuses what the store
/// refused: it never admits. Units other instances give back when their slices end (every flush
/// interval) raise a spent counter without any event, so a refusal is asked again of the store after
/// ``recheckSeconds``: one transaction per second per spent counter, not one per request.
public final class MeterRefusals: Sendable {
    struct Refusal {
        var kind: MeterKind
        /// The period the store refused in.
        var periodStart: Int64
        /// Units the counter still had: a request needing more is refused (a cheaper one may pass).
        var available: Int
        /// Wall-clock Unix seconds after which the store is asked again.
        var recheckAt: TimeInterval
        /// The key of a balance, so that a change to the key forgets it.
        var digest: APIKeyDigest?
    }

    /// Seconds a remembered refusal stands before the store is asked again.
    public static let recheckSeconds: TimeInterval = 1

    /// The refusals, and a count of the changes that forgot some: a refusal the store made before a
    /// change must not be remembered after it.
    private let state = Mutex<(epoch: UInt64, refusals: [Meter: Refusal])>((0, [:]))

    public init() {}

    /// The count of changes so far; pass it to ``record(_:kind:periodStart:available:digest:now:epoch:)``.
    var epoch: UInt64 { state.withLock { $0.epoch } }

    /// The units `meter` had left when the store refused it, if that refusal still holds for a need of
    /// `kind` in the period starting `periodStart` at `now`; nil: ask the store.
    func available(_ meter: Meter, kind: MeterKind, periodStart: Int64, now: Date) -> Int? {
        state.withLock { state in
            guard let refusal = state.refusals[meter] else { return nil }
            let current: Bool
            if case .credits = kind {
                // A refill since the refusal set the balance anew.
                current = periodStart <= refusal.periodStart
            } else {
                current = periodStart == refusal.periodStart
            }
            guard current, refusal.kind == kind, now.timeIntervalSince1970 < refusal.recheckAt else {
                state.refusals[meter] = nil
                return nil
            }
            return refusal.available
        }
    }

    /// Remembers that the store refused `meter` having `available` units, unless a change forgot
    /// refusals since `epoch` was read (before the store was asked).
    func record(
        _ meter: Meter, kind: MeterKind, periodStart: Int64, available: Int, digest: APIKeyDigest?, now: Date, epoch: UInt64
    ) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.refusals.count > 100_000 { state.refusals.removeAll() }
            state.refusals[meter] = Refusal(
                kind: kind, periodStart: periodStart, available: available,
                recheckAt: now.timeIntervalSince1970 + Self.recheckSeconds, digest: digest)
        }
    }

    /// Forgets the refusals `matching` selects (by counter and, for a balance, its key).
    func forget(where matching: (Meter, APIKeyDigest?) -> Bool) {
        state.withLock { state in
            state.epoch &+= 1
            state.refusals = state.refusals.filter { !matching($0.key, $0.value.digest) }
        }
    }

    /// Whether a refusal of `meter` is remembered (tests).
    public func isRemembered(_ meter: Meter) -> Bool { state.withLock { $0.refusals[meter] != nil } }
}

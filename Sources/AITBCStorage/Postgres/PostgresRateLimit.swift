import AITBCDomain
import PostgresNIO
import Synchronization

/// Rate limits kept in PostgreSQL for all instances: one call of the `aitbc_admit` function decides,
/// which locks the budgets' rows, runs the same GCRA as ``RateLimiter`` on the database's clock, and
/// charges them only if all have room. N instances therefore admit exactly what one would.
///
/// Requests for the same budgets that arrive while a call is under way are decided together by the
/// next one: a batch of n admits the first k that fit, exactly as n calls at that instant would, for
/// one round trip and one row lock instead of n.
///
/// The clock is the database's, the one clock every instance shares, unless one is given (a test's
/// injected clock, so that budgets refill when the test moves its time and not while it runs).
public final class PostgresRateLimit: SharedRateLimit {
    let store: PostgresStore
    /// Now in Unix nanoseconds, when not the database's clock.
    let clock: (@Sendable () -> Int64)?
    private let lines = Mutex<[Line: Queue]>([:])

    /// The budgets a request draws on.
    private struct Line: Hashable {
        var first: BudgetKey
        var firstLimit: Int
        var second: BudgetKey?
        var secondLimit: Int?
    }

    private enum Turn {
        case decided(SharedAdmission)
        case lead
    }

    /// Requests waiting for a line's next call; `busy` while a call is under way.
    private struct Queue {
        var busy = false
        var waiting: [CheckedContinuation<Turn, any Error>] = []
    }

    public init(store: PostgresStore, clock: (@Sendable () -> Int64)? = nil) {
        self.store = store
        self.clock = clock
    }

    public func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission {
        let line = Line(first: first.0, firstLimit: first.1, second: second?.0, secondLimit: second?.1)
        let turn = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Turn, any Error>) in
            let lead = lines.withLock { lines in
                if lines[line]?.busy == true {
                    lines[line]?.waiting.append(continuation)
                    return false
                }
                lines[line] = Queue(busy: true)
                return true
            }
            if lead { continuation.resume(returning: .lead) }
        }
        if case .decided(let admission) = turn { return admission }

        // This request leads: it asks for itself and everyone who queued meanwhile.
        let followers = lines.withLock { lines in
            defer { lines[line]?.waiting = [] }
            return lines[line]?.waiting ?? []
        }
        let outcome: Result<[SharedAdmission], any Error>
        do {
            outcome = .success(try await decide(line, count: followers.count + 1))
        } catch {
            outcome = .failure(error)
        }
        // Hand the lead to the first request that queued during the call, if any.
        let next = lines.withLock { lines -> CheckedContinuation<Turn, any Error>? in
            guard var queue = lines[line], !queue.waiting.isEmpty else {
                lines[line] = nil
                return nil
            }
            let next = queue.waiting.removeFirst()
            lines[line] = queue
            return next
        }
        switch outcome {
        case .success(let admissions):
            for (follower, admission) in zip(followers, admissions.dropFirst()) { follower.resume(returning: .decided(admission)) }
            next?.resume(returning: .lead)
            return admissions[0]
        case .failure(let error):
            for follower in followers { follower.resume(throwing: error) }
            next?.resume(returning: .lead)
            throw error
        }
    }

    /// Deletes the budgets that are full again (no row is a full budget), so the table holds the
    /// budgets in use rather than every address and email ever throttled.
    ///
    /// In batches of rows nobody holds (`SKIP LOCKED`), in name order as `aitbc_admit` locks them: a
    /// budget being charged is left for the next time, and the clean-up never waits on, nor
    /// deadlocks with, a request.
    public func forgetFullBudgets() async throws -> Int {
        let batch = 1000
        var forgotten = 0
        let told = clock?()
        while true {
            let count = try await store.read { session in
                try await session.rows(
                    """
                    WITH gone AS (
                        DELETE FROM rate_budgets WHERE name IN (
                            SELECT name FROM rate_budgets
                            WHERE tat < COALESCE(\(told)::BIGINT,
                                (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000)
                            ORDER BY name LIMIT \(batch) FOR UPDATE SKIP LOCKED)
                        RETURNING 1
                    )
                    SELECT count(*)::BIGINT FROM gone
                    """
                ).first.map { try $0.decode(Int.self) } ?? 0
            }
            forgotten += count
            if count < batch { return forgotten }
        }
    }

    /// One call for `count` requests; their decisions in order (the first k admitted).
    private func decide(_ line: Line, count: Int) async throws -> [SharedAdmission] {
        let firstName = line.first.storageName, firstLimit = line.firstLimit
        let secondName = line.second?.storageName, secondLimit = line.secondLimit
        let told = clock?()
        let row = try await store.read { session in
            try await session.rows(
                """
                SELECT admitted, binding, lim, room, base_ns, interval_ns, capacity_ns, now_ns
                FROM aitbc_admit(\(firstName)::text, \(firstLimit)::integer, \(secondName)::text,
                \(secondLimit)::integer, \(count)::integer, \(told)::bigint)
                """
            ).first
        }
        guard let row else { throw PostgresFailure("aitbc_admit returned no row") }
        let (admitted, binding, limit, room, base, interval, capacity, now) = try row.decode(
            (Int, Int, Int, Int, Int64, Int64, Int64, Int64).self)
        let refusing = binding == 2 ? line.second : line.first
        return (0..<count).map { index in
            if index < admitted {
                let charged = base + Int64(index + 1) * interval
                return SharedAdmission(
                    decision: RateDecision(
                        admitted: true, limit: limit, remaining: room - index - 1,
                        resetUnixSeconds: GCRA.ceilSeconds(charged), retryAfterSeconds: 0),
                    refusedBy: nil, retryAfterNanoseconds: 0)
            }
            let after = base + Int64(admitted) * interval
            let wait = max(0, after + interval - capacity - now)
            return SharedAdmission(
                decision: RateDecision(
                    admitted: false, limit: limit, remaining: 0, resetUnixSeconds: GCRA.ceilSeconds(after),
                    retryAfterSeconds: Int(max(1, GCRA.ceilSeconds(wait)))),
                refusedBy: refusing, retryAfterNanoseconds: wait)
        }
    }
}

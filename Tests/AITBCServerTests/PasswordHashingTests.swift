import AITBCDashboard
import AITBCDomain
import AITBCServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import Synchronization
import Testing

/// Password hashing runs on its own bounded threads: a flood of sign-ins is refused at once past the
/// bound, and neither `/ready` (storage) nor the API waits for bcrypt meanwhile.
@Suite struct PasswordHashingTests {
    /// Slow enough that waiting for even half a hash stands out from any request's own time.
    static let cost = 13

    /// How long one bcrypt hash at `cost` takes on this machine now.
    static func bcryptDuration() async throws -> Duration {
        let pool = PasswordHashingPool(threads: 1, queue: 0)
        let hasher = BcryptPasswordHasher(cost: UInt8(cost), pool: pool)
        let start = ContinuousClock.now
        _ = try await hasher.hash("a password to time")
        let elapsed = ContinuousClock.now - start
        await pool.shutdown()
        return elapsed
    }

    /// Sends one sign-in form (fetching its page first) and returns the reply and how long the post took.
    static func signIn(_ client: any TestClientProtocol, _ index: Int) async throws -> (Reply, Duration) {
        let browser = DashboardBrowser(client, address: "198.51.100.\(index + 1)")
        try await browser.get("/dashboard/sign-in")
        let start = ContinuousClock.now
        let reply = try await browser.post(
            "/dashboard/sign-in", ["email": "nobody\(index)@example.com", "password": "not the password at all"])
        return (reply, ContinuousClock.now - start)
    }

    /// Occupies one of the pool's threads until `release()`: the hashing thread is surely busy for as long
    /// as the test needs, however slowly a loaded machine runs the sign-ins around it.
    final class Blocker: Sendable {
        private let semaphore = DispatchSemaphore(value: 0)
        func hold(_ pool: PasswordHashingPool) async throws { try await pool.run { self.semaphore.wait() } }
        func release() { semaphore.signal() }
    }

    @Test func signInsPastTheHashingBoundAreRefusedAtOnceAndStorageAndTheAPIDoNotWait() async throws {
        let bcrypt = try await Self.bcryptDuration()
        let harness = try await Harness.make { settings in
            settings.passwordHashCost = Self.cost
            settings.passwordHashThreads = 1
            settings.passwordHashQueue = 2
        }
        let pool = harness.coordinator.passwordHashing
        let queued = 2, attempts = 8
        try await harness.test { client in
            // The first unknown email makes the decoy hash; afterwards each sign-in is one hash.
            #expect(try await Self.signIn(client, 99).0.status == .unauthorized)
            #expect(pool.inFlight == 0)

            // The one hashing thread is held, so exactly `queued` sign-ins wait for it and the rest are
            // refused, whatever order they arrive in.
            let blocker = Blocker()
            let holding = Task { try await blocker.hold(pool) }
            // Should the bound break (a sign-in checked, the direct one or a route waiting for the held
            // thread), the test fails on its expectations after a minute instead of hanging.
            let watchdog = Task {
                try await Task.sleep(for: .seconds(60))
                Issue.record("still waiting for the held thread after a minute")
                blocker.release()
            }
            defer { watchdog.cancel() }
            let deadline = ContinuousClock.now + .seconds(30)
            while pool.inFlight < 1, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
            guard pool.inFlight == 1 else {
                blocker.release()
                Issue.record("the blocker never reached the pool")
                return
            }
            var releasedAt: ContinuousClock.Instant?
            do {
                try await withThrowingTaskGroup(of: (Reply, Duration).self) { group in
                    for index in 0..<attempts { group.addTask { try await Self.signIn(client, index) } }

                    var refused: [Duration] = [], checked: [Duration] = []
                    for try await (reply, elapsed) in group {
                        if reply.status == .tooManyRequests {
                            refused.append(elapsed)
                            #expect(reply.header("Retry-After") == "1")
                            #expect(reply.text.contains("Too many sign-ins are being checked right now"))
                        } else {
                            #expect(reply.status == .unauthorized)
                            checked.append(elapsed)
                        }
                        guard refused.count + checked.count == attempts - queued else { continue }

                        // Every refusal has come back while the thread is still held: refused at once.
                        #expect(refused.count == attempts - queued, "checked while the thread was held: \(checked)")
                        #expect(pool.inFlight == 1 + queued)
                        // The domain answers the same, naming the bound.
                        do {
                            _ = try await harness.coordinator.accounts.signIn(
                                email: "direct@example.com", password: "not the password at all", from: "192.0.2.1")
                            Issue.record("a sign-in was hashed past the bound")
                        } catch let error as CoordinatorError {
                            #expect(error == .passwordHashingBusy)
                            #expect(error.details["bound"] == .string("password_hashing"))
                        }
                        // Storage and the API answer while the pool is full.
                        for (path, key) in [("/ready", nil), ("/v1/me", Harness.clientKey)] {
                            #expect(try await client.send(.get, path, key: key).status == .ok, "\(path)")
                        }

                        // Now the queued sign-ins hash for real, one after the other, on the pool's thread.
                        blocker.release()
                        releasedAt = .now
                        try await holding.value
                        // One round, so that it surely ends while the two queued hashes still run (each
                        // request is bounded by half of their time below).
                        var slowest = Duration.zero
                        for (path, key) in [("/ready", nil), ("/v1/me", Harness.clientKey)] {
                            let start = ContinuousClock.now
                            let reply = try await client.send(.get, path, key: key)
                            slowest = max(slowest, ContinuousClock.now - start)
                            #expect(reply.status == .ok, "\(path)")
                        }
                        // Both were answered while bcrypt was busy, not after the queue drained (the bound is
                        // a margin for a loaded machine; the proof is the pool still being busy).
                        #expect(pool.inFlight > 0)
                        #expect(slowest < bcrypt * 2, "slowest /ready or /v1/me \(slowest) while one bcrypt takes \(bcrypt)")
                    }
                    #expect(checked.count == queued)
                    // Each checked sign-in waited for the held thread and then for its hash.
                    let longestRefusal = refused.max() ?? .zero
                    #expect(checked.allSatisfy { $0 > longestRefusal }, "refusals took \(refused); checks \(checked)")
                }
            } catch {
                blocker.release()
                throw error
            }
            #expect(releasedAt != nil, "the refusals never came back")
            if releasedAt == nil { blocker.release() }
            try await holding.value
            #expect(pool.inFlight == 0)
            // Once the queue has drained, sign-ins are checked again.
            #expect(try await Self.signIn(client, 50).0.status == .unauthorized)
        }
    }

    @Test func aStoppedPoolRefusesInsteadOfHanging() async throws {
        let pool = PasswordHashingPool(threads: 1, queue: 1)
        let hasher = BcryptPasswordHasher(cost: 4, pool: pool)
        let hash = try await hasher.hash("correct horse battery staple")
        #expect(try await hasher.verify("correct horse battery staple", against: hash))
        #expect(try await !hasher.verify("wrong horse battery staple", against: hash))
        await pool.shutdown()
        await #expect(throws: CoordinatorError.passwordHashingStopped) { try await hasher.hash("x") }
    }
}

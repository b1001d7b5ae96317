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

    @Test func signInsPastTheHashingBoundAreRefusedAtOnceAndStorageAndTheAPIDoNotWait() async throws {
        let bcrypt = try await Self.bcryptDuration()
        let harness = try await Harness.make { settings in
            settings.passwordHashCost = Self.cost
            settings.passwordHashThreads = 1
            settings.passwordHashQueue = 2
        }
        let pool = harness.coordinator.passwordHashing
        let capacity = 3, attempts = 8
        try await harness.test { client in
            // The first unknown email makes the decoy hash; afterwards each sign-in is one hash.
            #expect(try await Self.signIn(client, 99).0.status == .unauthorized)
            #expect(pool.inFlight == 0)

            try await withThrowingTaskGroup(of: (Reply, Duration).self) { group in
                for index in 0..<attempts { group.addTask { try await Self.signIn(client, index) } }

                // Wait until the pool is full (one hashing, two waiting), then measure the others. Each
                // sign-in needs only a few storage reads before it hashes, unless storage waits for bcrypt.
                let deadline = ContinuousClock.now + .seconds(30)
                while pool.inFlight < capacity, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
                try #require(pool.inFlight == capacity, "the sign-ins never filled the pool: their storage reads waited")
                // The domain answers the same, naming the bound.
                do {
                    _ = try await harness.coordinator.accounts.signIn(
                        email: "direct@example.com", password: "not the password at all", from: "192.0.2.1")
                    Issue.record("a sign-in was hashed past the bound")
                } catch let error as CoordinatorError {
                    #expect(error == .passwordHashingBusy)
                    #expect(error.details["bound"] == .string("password_hashing"))
                }
                // One round, so that it surely ends while the hashes queued above still run (two more
                // at least, and each request is bounded by half of one below).
                var slowest = Duration.zero
                for (path, key) in [("/ready", nil), ("/v1/me", Harness.clientKey)] {
                    let start = ContinuousClock.now
                    let reply = try await client.send(.get, path, key: key)
                    slowest = max(slowest, ContinuousClock.now - start)
                    #expect(reply.status == .ok, "\(path)")
                }
                // Still saturated: both were answered while bcrypt was busy, not after the queue drained (the
                // bound is a margin for a loaded machine; the proof is the pool still being full).
                #expect(pool.inFlight > 0)
                #expect(slowest < bcrypt * 2, "slowest /ready or /v1/me \(slowest) while one bcrypt takes \(bcrypt)")

                var refused: [Duration] = [], checked = 0, slowestChecked = Duration.zero
                for try await (reply, elapsed) in group {
                    if reply.status == .tooManyRequests {
                        refused.append(elapsed)
                        #expect(reply.header("Retry-After") == "1")
                        #expect(reply.text.contains("Too many sign-ins are being checked right now"))
                    } else {
                        #expect(reply.status == .unauthorized)
                        checked += 1
                        slowestChecked = max(slowestChecked, elapsed)
                    }
                }
                #expect(checked == capacity)
                #expect(refused.count == attempts - capacity)
                // Refused at once: each before the last sign-in the pool took had its three hashes done (a
                // refusal that waited for the pool would come after it), timed in this same run.
                #expect(
                    refused.allSatisfy { $0 < slowestChecked }, "refusals took \(refused); the last check \(slowestChecked)")
            }
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

import AITBCDomain
import AllocationCounter
import ArgumentParser
import Foundation

/// The in-process cost of the rate-limit decision the API-key middleware takes per request: the
/// caller's budgets (`Principal.budgets`: the tenant's, and the key's own when it has one) admitted or
/// refused together by one `RateLimiter.admit`, in nanoseconds and heap allocations per decision.
struct Limiter: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Nanoseconds and heap allocations per rate-limit decision (tenant + key budgets), in process.",
        discussion: """
            Four cases, each over --tenants callers (one tenant and one key each) taken in turn, the clock \
            advancing 1 µs per decision: both budgets with room (admitted); the key's budget spent (refused \
            by the key); the tenant's budget spent (refused by the tenant); a key without its own limit \
            (the tenant's budget only, admitted). Allocations are counted by the AllocationCounter target, \
            which stands in for malloc and its kin in this process (Linux with glibc) and counts the calling \
            thread's calls; elsewhere they show as n/a. Prints one line per case; the time is the median \
            of the rounds, the allocations those of all rounds.
            """)

    @Option(help: "Decisions to time per case and round.") var decisions = 10_000_000
    @Option(help: "Distinct callers (tenant and key) the decisions are spread over.") var tenants = 1000
    @Option(help: "Rounds per case (the median is reported).") var rounds = 3

    /// One caller set-up: its tenant's and its key's limits, and what every decision must answer.
    struct Case {
        var name: String
        var tenantLimit: Int
        var keyLimit: Int?
        var admitted: Bool
    }

    static let cases = [
        Case(name: "admitted", tenantLimit: 100_000_000, keyLimit: 50_000_000, admitted: true),
        Case(name: "refused_by_key", tenantLimit: 100_000_000, keyLimit: 1, admitted: false),
        Case(name: "refused_by_tenant", tenantLimit: 1, keyLimit: 50_000_000, admitted: false),
        Case(name: "tenant_only_admitted", tenantLimit: 100_000_000, keyLimit: nil, admitted: true),
    ]

    func run() throws {
        let counting = Self.allocationCounterWorks()
        for benchCase in Self.cases {
            var times: [Double] = []
            var allocations: Int64 = 0
            var answeredAsExpected = 0
            for _ in 0..<rounds {
                let round = measure(benchCase)
                times.append(round.nanoseconds)
                allocations += round.allocations
                answeredAsExpected += round.asExpected
            }
            let total = decisions * rounds
            guard answeredAsExpected == total else {
                throw BenchError("\(benchCase.name): \(total - answeredAsExpected) of \(total) decisions were not \(benchCase.admitted ? "admissions" : "refusals")")
            }
            let perDecision = counting ? String(format: "%.3f", Double(allocations) / Double(total)) : "n/a"
            let median = String(format: "%.1f", times.sorted()[times.count / 2])
            print(
                "case=\(benchCase.name) budgets=\(benchCase.keyLimit == nil ? 1 : 2) decisions=\(total)"
                    + " admitted=\(benchCase.admitted ? total : 0) ns_per_decision=\(median) allocations_per_decision=\(perDecision)")
        }
    }

    /// Times `decisions` decisions of `benchCase` on a fresh limiter whose budgets all exist.
    func measure(_ benchCase: Case) -> (nanoseconds: Double, allocations: Int64, asExpected: Int) {
        let created = Date(timeIntervalSince1970: 1_795_000_000)
        let principals = (0..<tenants).map { index in
            // Ids as long as real ones (past Swift's 15-byte inline strings).
            let tenant = Tenant(
                id: "tenant_" + String(index).leftPadded(to: 20), name: "Tenant \(index)", plan: "enterprise",
                customRateLimitPerMinute: benchCase.tenantLimit, createdAt: created)
            let key = APIKeyRecord(
                id: "key_" + String(index).leftPadded(to: 20), tenantID: tenant.id, name: "bench", role: .client,
                scopes: nil, digest: APIKeyDigest(of: "secret-\(index)"), hint: "x", createdAt: created,
                rateLimitPerMinute: benchCase.keyLimit)
            return Principal(key: key, tenant: tenant, tenantLimit: benchCase.tenantLimit)
        }
        let limiter = RateLimiter()
        var now = RateInstant(monotonic: 0, unix: 1_795_000_000 * 1_000_000_000)
        // Every budget exists before timing; a limit of 1 per minute is spent by this first decision
        // and does not refill within the timed decisions (10 s of clock per 10 million).
        for principal in principals {
            let budgets = principal.budgets
            _ = limiter.admit(budgets.0, budgets.1, now: now)
        }
        var asExpected = 0
        let allocationsBefore = aitbc_thread_allocations()
        let start = ContinuousClock.now
        for index in 0..<decisions {
            now.monotonic &+= 1000
            now.unix &+= 1000
            let budgets = principals[index % principals.count].budgets
            if limiter.admit(budgets.0, budgets.1, now: now).admitted == benchCase.admitted { asExpected += 1 }
        }
        let elapsed = ContinuousClock.now - start
        let allocations = aitbc_thread_allocations() - allocationsBefore
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        return (nanoseconds / Double(decisions), allocations, asExpected)
    }

    /// Whether the counter sees this thread's allocations: an array that must be allocated is counted.
    static func allocationCounterWorks() -> Bool {
        let before = aitbc_thread_allocations()
        guard before >= 0 else { return false }
        let probe = [Int](repeating: 7, count: 1000 + Int.random(in: 0..<10))
        let after = aitbc_thread_allocations()
        return probe.count > 0 && after > before
    }
}

extension String {
    /// The string with zeros in front up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String {
        String(repeating: "0", count: max(0, width - count)) + self
    }
}

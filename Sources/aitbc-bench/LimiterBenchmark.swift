import AITBCDomain
import ArgumentParser
import Foundation

/// The in-process cost of one rate-limit decision (tenant budget plus a key budget).
struct Limiter: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Nanoseconds per rate-limit decision, in process.")

    @Option(help: "Decisions to time.") var decisions = 10_000_000
    @Option(help: "Distinct tenants the decisions are spread over.") var tenants = 1000

    func run() {
        let limiter = RateLimiter()
        let keys = (0..<tenants).map { BudgetKey.tenant("tenant-\($0)") }
        var now = RateInstant(monotonic: 0, unix: 1_795_000_000 * 1_000_000_000)
        var admitted = 0
        // Warm up: every budget exists before timing.
        for key in keys { _ = limiter.admit((key, 100_000_000), now: now) }
        let start = ContinuousClock.now
        for index in 0..<decisions {
            now.monotonic &+= 1000
            now.unix &+= 1000
            if limiter.admit((keys[index % keys.count], 100_000_000), now: now).admitted { admitted += 1 }
        }
        let elapsed = ContinuousClock.now - start
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        print(String(format: "decisions=%d admitted=%d ns_per_decision=%.1f", decisions, admitted, nanoseconds / Double(decisions)))
    }
}

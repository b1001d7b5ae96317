import AITBCDomain
@testable import AITBCStorage
import Foundation
import Synchronization
import Testing

/// Budget leases on a live PostgreSQL: several instances (leases over their own stores on one
/// database) share a budget without exceeding it, give back what they did not spend, cost a busy
/// budget few statements, and a plan change ends leases at once.
///
/// The database is told a time that stands still (the budgets never refill during a test, so the
/// counts are exact); the instances' own clock moves by hand, which sizes their slices.
@Suite(.enabled(if: PostgresTestDatabase.isConfigured, PostgresTestDatabase.skipReason), .freshPostgresDatabases, .timeLimit(.minutes(2)))
struct PostgresLeaseTests {
    /// `count` instances on one fresh database, sharing `time`; the database's time is `databaseTime`'s.
    static func instances(
        _ count: Int, time: ManualTimeSource, databaseTime: ManualTimeSource = ManualTimeSource()
    ) async throws -> [(store: PostgresStore, leases: BudgetLeases)] {
        let database = try await PostgresDatabaseScope.makeDatabase()
        let clock: @Sendable () -> Int64 = { 1_795_000_000_000_000_000 + databaseTime.monotonicNanoseconds() }
        var instances: [(store: PostgresStore, leases: BudgetLeases)] = []
        for _ in 0..<count {
            let store = try await database.open()
            instances.append((store, BudgetLeases(authority: PostgresRateLimit(store: store, clock: clock), time: time)))
        }
        return instances
    }

    @Test func instancesHammeringOneBudgetNeverAdmitMoreThanItsLimit() async throws {
        let time = ManualTimeSource()
        let instances = try await Self.instances(3, time: time)
        let limit = 6400
        let admitted = try await withThrowingTaskGroup(of: Int.self) { group in
            for instance in instances {
                for _ in 0..<2 {
                    group.addTask {
                        var admitted = 0
                        for _ in 0..<2500 {
                            if try await instance.leases.admit((.tenant("t"), limit), nil, now: time.rateInstant()).decision.admitted {
                                admitted += 1
                            }
                            time.advance(by: 0.0002)
                        }
                        return admitted
                    }
                }
            }
            return try await group.reduce(0, +)
        }
        for instance in instances { await instance.leases.aheadSettled() }
        let held = instances.map { $0.leases.units(.tenant("t")) }
        #expect(admitted + held.reduce(0, +) <= limit, "admitted \(admitted), held \(held)")
        // Under-admission is at most what the others hold: at most one slice (a 64th of the limit) each.
        #expect(admitted >= limit - 3 * (limit / 64), "admitted \(admitted), held \(held)")
        // What one instance gives back, another admits.
        await instances[0].leases.endAll()
        await instances[1].leases.endAll()
        var more = 0
        while try await instances[2].leases.admit((.tenant("t"), limit), nil, now: time.rateInstant()).decision.admitted {
            more += 1
            await instances[2].leases.aheadSettled()
        }
        #expect(more >= held[0] + held[1] + held[2], "held \(held), admitted \(more) more")
        #expect(admitted + more == limit)
        for instance in instances { try await instance.store.close() }
    }

    @Test func aBusyBudgetCostsAtMostOneStatementInTwentyRequests() async throws {
        let time = ManualTimeSource()
        let instance = try await Self.instances(1, time: time)[0]
        var before = 0
        for index in 0..<4000 {
            if index == 1000 { before = instance.store.statistics.operations }
            #expect(try await instance.leases.admit((.tenant("busy"), 6_400_000), nil, now: time.rateInstant()).decision.admitted)
            time.advance(by: 0.001)
        }
        let perRequest = Double(instance.store.statistics.operations - before) / 3000
        #expect(perRequest <= 0.05, "\(perRequest) statements per admitted request")
        try await instance.store.close()
    }

    @Test func aTenantLoweredFromALargeLimitToASmallOneIsHeldToTheSmallOneAtOnce() async throws {
        let time = ManualTimeSource()
        let databaseTime = ManualTimeSource()
        let instances = try await Self.instances(2, time: time, databaseTime: databaseTime)
        for _ in 0..<300 {
            for instance in instances {
                #expect(try await instance.leases.admit((.tenant("t"), 640_000), nil, now: time.rateInstant()).decision.admitted)
                await instance.leases.aheadSettled()
            }
            time.advance(by: 0.001)
        }
        #expect(instances.allSatisfy { $0.leases.units(.tenant("t")) > 12 }, "each holds a slice of the large limit")
        // A minute later for the database (what was spent has refilled), the plan is lowered to 12 a
        // minute: the instance that made the change (before it answers) and the one told of it end
        // their leases, whose units have refilled already and so give nothing back.
        databaseTime.advance(by: 60)
        for instance in instances { await instance.leases.end(for: .tenantChanged(id: "t")) }
        #expect(instances.allSatisfy { $0.leases.units(.tenant("t")) == 0 })
        var admitted = 0
        for _ in 0..<20 {
            for instance in instances {
                let decision = try await instance.leases.admit((.tenant("t"), 12), nil, now: time.rateInstant()).decision
                #expect(decision.limit == 12)
                if decision.admitted { admitted += 1 }
            }
        }
        #expect(admitted == 12, "admitted \(admitted) under the new limit of 12")
        for instance in instances { try await instance.store.close() }
    }
}

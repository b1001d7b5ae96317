import AITBCDomain
import Synchronization
import Testing

/// The bus of a leasing instance ends the leases a change affects before telling the others, and
/// before the rest of the instance applies a change it hears of.
@Suite struct LeaseEndingBusTests {
    /// A bus that records what is published (and what the leases held then) and replays `heard`.
    final class RecordingBus: ClusterBus {
        let published = Mutex<[(ClusterEvent, Int)]>([])
        let heard: [ClusterEvent]
        let leases: BudgetLeases

        init(heard: [ClusterEvent], leases: BudgetLeases) {
            self.heard = heard
            self.leases = leases
        }

        var isShared: Bool { true }
        func publish(_ event: ClusterEvent) async {
            let held = leases.units(.tenant("t"))
            published.withLock { $0.append((event, held)) }
        }
        func events() -> AsyncStream<ClusterEvent> {
            AsyncStream { continuation in
                for event in heard { continuation.yield(event) }
                continuation.finish()
            }
        }
    }

    /// Leases that hold a slice of tenant `t`'s budget.
    func warmLeases(_ authority: MemoryLeaseAuthority) async throws -> BudgetLeases {
        let time = ManualTimeSource()
        let leases = BudgetLeases(authority: authority, time: time)
        for _ in 0..<400 {
            _ = try await leases.admit((.tenant("t"), 640_000), nil, now: time.rateInstant())
            await leases.aheadSettled()
            time.advance(by: 0.001)
        }
        return leases
    }

    @Test func aChangeThisInstanceMakesEndsItsLeaseBeforeTheOthersAreTold() async throws {
        let authority = MemoryLeaseAuthority()
        let leases = try await warmLeases(authority)
        let held = leases.units(.tenant("t"))
        #expect(held > 0)
        let inner = RecordingBus(heard: [], leases: leases)
        await LeaseEndingBus(bus: inner, leases: leases).publish(.tenantChanged(id: "t"))
        let published = inner.published.withLock { $0 }
        #expect(published.count == 1 && published[0].0 == .tenantChanged(id: "t"))
        #expect(published[0].1 == 0, "the lease had ended when the others were told")
        #expect(authority.returns.last?.units == held)
    }

    @Test func aChangeHeardFromAnotherInstanceEndsTheLeaseBeforeItIsApplied() async throws {
        let authority = MemoryLeaseAuthority()
        let leases = try await warmLeases(authority)
        let held = leases.units(.tenant("t"))
        let bus = LeaseEndingBus(bus: RecordingBus(heard: [.jobQueued(id: "j"), .tenantChanged(id: "t")], leases: leases), leases: leases)
        var seen: [ClusterEvent] = []
        var heldWhenSeen: [Int] = []
        for await event in bus.events() {
            seen.append(event)
            heldWhenSeen.append(leases.units(.tenant("t")))
        }
        #expect(seen == [.jobQueued(id: "j"), .tenantChanged(id: "t")])
        // Events are forwarded ahead of their reader: what counts is that the change arrives after its lease ended.
        #expect(heldWhenSeen.last == 0)
        #expect(authority.returns.last?.units == held)
    }
}

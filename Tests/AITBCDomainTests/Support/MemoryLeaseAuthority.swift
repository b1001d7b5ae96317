import AITBCDomain
import Synchronization

/// A lease authority in memory: each budget has `room` units left (no refill; a budget never seen has
/// its whole limit), and every statement is logged. It can be taken down.
final class MemoryLeaseAuthority: BudgetLeaseAuthority {
    enum Statement: Equatable {
        case lease(LeaseRequest)
        case giveBack([LeaseReturn])
    }

    private struct State {
        var rooms: [BudgetKey: Int] = [:]
        var log: [Statement] = []
        var down = false
    }

    private let state: Mutex<State>

    init(rooms: [BudgetKey: Int] = [:]) { state = Mutex(State(rooms: rooms)) }

    var log: [Statement] { state.withLock { $0.log } }
    var leases: [LeaseRequest] {
        log.compactMap { statement -> LeaseRequest? in
            guard case .lease(let request) = statement else { return nil }
            return request
        }
    }

    var returns: [LeaseReturn] {
        log.flatMap { statement -> [LeaseReturn] in
            guard case .giveBack(let units) = statement else { return [] }
            return units
        }
    }
    func room(_ key: BudgetKey) -> Int? { state.withLock { $0.rooms[key] } }
    func setDown(_ down: Bool) { state.withLock { $0.down = down } }
    func setRoom(_ key: BudgetKey, _ room: Int) { state.withLock { $0.rooms[key] = room } }

    struct Down: Error {}

    func lease(_ request: LeaseRequest) async throws -> LeaseGrant {
        try state.withLock { state in
            guard !state.down else { throw Down() }
            state.log.append(.lease(request))
            let rooms = request.budgets.map { state.rooms[$0.key] ?? $0.limit }
            let fits = zip(request.budgets, rooms).map { $0.have + $1 }
            let admitted = min(request.requests, fits.min() ?? 0)
            var granted: [LeaseGrant.Budget] = []
            for (budget, room) in zip(request.budgets, rooms) {
                var charge = max(0, admitted - budget.have)
                if admitted == request.requests { charge += min(budget.extra, room - charge) }
                state.rooms[budget.key] = room - charge
                granted.append(
                    LeaseGrant.Budget(
                        charged: charge, room: room - charge, tatUnixNanoseconds: 0,
                        intervalNanoseconds: GCRA.windowNanoseconds / Int64(budget.limit)))
            }
            guard admitted < request.requests else { return LeaseGrant(admitted: admitted, budgets: granted, refusal: nil) }
            let binding = request.budgets[fits.firstIndex(of: fits.min() ?? 0) ?? 0]
            let refusal = SharedAdmission(
                decision: RateDecision(admitted: false, limit: binding.limit, remaining: 0, resetUnixSeconds: 0, retryAfterSeconds: 1),
                refusedBy: binding.key, retryAfterNanoseconds: 1_000_000_000)
            return LeaseGrant(admitted: admitted, budgets: granted, refusal: refusal)
        }
    }

    func giveBack(_ units: [LeaseReturn]) async throws {
        try state.withLock { state in
            guard !state.down else { throw Down() }
            state.log.append(.giveBack(units))
            for unit in units { state.rooms[unit.key, default: 0] += unit.units }
        }
    }

    func admit(_ first: (BudgetKey, Int), _ second: (BudgetKey, Int)?) async throws -> SharedAdmission {
        throw Down()
    }

    func forgetFullBudgets() async throws -> Int { 0 }
}

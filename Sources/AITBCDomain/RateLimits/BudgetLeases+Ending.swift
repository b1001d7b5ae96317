/// Ending leases: when their budget changed (a revocation, a plan or limit change), when they were
/// not renewed within their lifetime, and at shutdown. Their unused units go back.
extension BudgetLeases: LeaseHolder {
    /// Ends the leases of the budgets `affected` selects at once and gives their unused units back.
    public func end(where affected: (BudgetKey) -> Bool) async {
        let returns = state.withLock { state -> [LeaseReturn] in
            let ending = state.leases.filter { affected($0.key) }
            for key in ending.keys { state.leases[key] = nil }
            return ending.compactMap { key, lease in
                lease.units > 0 ? LeaseReturn(key: key, units: lease.units, tatUnixNanoseconds: lease.tat) : nil
            }
        }
        await giveBack(returns)
    }

    /// Ends every lease (a graceful shutdown; events may have been missed).
    public func endAll() async { await end { _ in true } }

    /// Gives back the units of leases past their lifetime, and forgets leases idle for a while.
    public func endExpired(now: Int64) async {
        let returns = state.withLock { state -> [LeaseReturn] in
            var returns: [LeaseReturn] = []
            for (key, lease) in state.leases where lease.expires <= now && !lease.prefetching {
                if lease.units > 0 {
                    returns.append(LeaseReturn(key: key, units: lease.units, tatUnixNanoseconds: lease.tat))
                    state.leases[key]?.units = 0
                } else if now - lease.expires > 10 * settings.lifetimeNanoseconds {
                    // Idle for a while: its observed rate is stale too. A statement under way for it
                    // settles into a new lease.
                    state.leases[key] = nil
                }
            }
            return returns
        }
        await giveBack(returns)
    }

    /// Ends the leases a change told by `event` affects: a tenant's plan or limit, a key's limit or
    /// revocation (key budgets are ended all together: the event names digests, not keys), or events
    /// that may have been missed (all).
    public func end(for event: ClusterEvent) async {
        switch event {
        case .tenantChanged(let id):
            await end { $0 == .tenant(id) }
        case .keyChanged:
            await end { if case .key = $0 { true } else { false } }
        case .resync:
            await endAll()
        case .jobQueued, .jobAssigned, .jobFinished, .minerChanged, .webhooksChanged:
            break
        }
    }
}

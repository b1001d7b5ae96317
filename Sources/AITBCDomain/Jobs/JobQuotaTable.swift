/// How much of the queue one tenant may use (from its plan).
public struct TenantJobLimits: Sendable, Equatable {
    public var queued: Int
    public var running: Int
    public var miners: Int

    public init(queued: Int, running: Int, miners: Int) {
        self.queued = queued
        self.running = running
        self.miners = miners
    }

    /// No bound (a tenant whose plan has not been seen yet).
    public static let unbounded = TenantJobLimits(queued: .max, running: .max, miners: .max)
}

/// Per plan, how much of the queue a tenant may hold: queued jobs, running jobs and miners.
public struct JobQuotaTable: Sendable, Equatable {
    public private(set) var limits: [String: TenantJobLimits]

    /// free 20 queued / 4 running / 5 miners, pro 1,000 / 100 / 100, enterprise 10,000 / 1,000 / 1,000.
    public static let standard = JobQuotaTable(limits: [
        "free": TenantJobLimits(queued: 20, running: 4, miners: 5),
        "pro": TenantJobLimits(queued: 1_000, running: 100, miners: 100),
        "enterprise": TenantJobLimits(queued: 10_000, running: 1_000, miners: 1_000),
    ])

    public init(limits: [String: TenantJobLimits]) { self.limits = limits }

    /// Parses `free=20/4/5,pro=1000/100/100` (queued/running/miners per plan).
    public init?(parsing text: String) {
        var limits: [String: TenantJobLimits] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=")
            guard parts.count == 2 else { return nil }
            let numbers = parts[1].split(separator: "/").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard numbers.count == 3, let queued = numbers[0], let running = numbers[1], let miners = numbers[2],
                queued > 0, running > 0, miners > 0
            else { return nil }
            limits[parts[0].trimmingCharacters(in: .whitespaces)] = TenantJobLimits(queued: queued, running: running, miners: miners)
        }
        guard !limits.isEmpty else { return nil }
        self.limits = limits
    }

    /// The limits of `plan`; an unknown plan gets the smallest of each.
    public func limits(for plan: String) -> TenantJobLimits {
        if let known = limits[plan] { return known }
        return TenantJobLimits(
            queued: limits.values.map(\.queued).min() ?? 20, running: limits.values.map(\.running).min() ?? 4,
            miners: limits.values.map(\.miners).min() ?? 5)
    }

    /// The setting's text form, as `--help` shows the default.
    public var text: String {
        limits.sorted { $0.value.queued < $1.value.queued }
            .map { "\($0.key)=\($0.value.queued)/\($0.value.running)/\($0.value.miners)" }.joined(separator: ",")
    }
}

import Foundation

/// An isolated namespace: its keys, usage and audit events are invisible to every other tenant.
public struct Tenant: Sendable, Equatable {
    public var id: String
    public var name: String
    public var plan: String
    /// A limit that overrides the plan's (an enterprise deal, a load test), or nil.
    public var customRateLimitPerMinute: Int?
    /// Quotas that override the plan's, period by period (nil: the plan's applies).
    public var customQuota: RequestQuota
    public var createdAt: Date

    public init(
        id: String, name: String, plan: String, customRateLimitPerMinute: Int? = nil,
        customQuota: RequestQuota = RequestQuota(), createdAt: Date
    ) {
        self.id = id
        self.customQuota = customQuota
        self.name = name
        self.plan = plan
        self.customRateLimitPerMinute = customRateLimitPerMinute
        self.createdAt = createdAt
    }

    /// Whether `id` is an acceptable chosen tenant id: 1–64 of `[a-z0-9_-]`.
    public static func isValidID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 64
            && id.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 || $0 == 45 }
    }
}

/// The plans and their per-minute request budgets.
public struct PlanTable: Sendable, Equatable {
    public private(set) var limits: [String: Int]
    /// The plans' request quotas (plans without one are absent).
    public private(set) var quotas: [String: RequestQuota] = [:]

    /// free 60, pro 600, enterprise 6000 requests per minute.
    public static let standard = PlanTable(limits: ["free": 60, "pro": 600, "enterprise": 6000])

    public init(limits: [String: Int], quotas: [String: RequestQuota] = [:]) {
        self.limits = limits
        self.quotas = quotas.filter { !$0.value.isEmpty }
    }

    /// Parses `free=60,pro=600,enterprise=6000`, where a plan may add quotas after its rate:
    /// `pro=600/day:10000/month:200000` (a daily and/or a monthly request quota).
    public init?(parsing text: String) {
        var limits: [String: Int] = [:]
        var quotas: [String: RequestQuota] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=")
            guard parts.count == 2 else { return nil }
            let name = parts[0].trimmingCharacters(in: .whitespaces)
            let fields = parts[1].split(separator: "/").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !name.isEmpty, let limit = fields.first.flatMap({ Int($0) }), limit > 0 else { return nil }
            var quota = RequestQuota()
            for field in fields.dropFirst() {
                let pair = field.split(separator: ":")
                guard pair.count == 2, let amount = Int(pair[1]), amount > 0 else { return nil }
                switch pair[0] {
                case "day" where quota.perDay == nil: quota.perDay = amount
                case "month" where quota.perMonth == nil: quota.perMonth = amount
                default: return nil
                }
            }
            limits[name] = limit
            if !quota.isEmpty { quotas[name] = quota }
        }
        guard !limits.isEmpty else { return nil }
        self.limits = limits
        self.quotas = quotas
    }

    /// The per-minute limit of `plan`, or nil for an unknown plan.
    public func limit(of plan: String) -> Int? { limits[plan] }

    /// The limit in force for `tenant`: its custom limit, else its plan's (an unknown plan gets the lowest).
    public func effectiveLimit(for tenant: Tenant) -> Int {
        tenant.customRateLimitPerMinute ?? limits[tenant.plan] ?? limits.values.min() ?? 60
    }

    /// The quotas in force for `tenant`: each period's override, else its plan's; nil when none applies.
    public func effectiveQuota(for tenant: Tenant) -> RequestQuota? {
        // Most deployments set no quota: answered without hashing the plan's name.
        if quotas.isEmpty && tenant.customQuota.isEmpty { return nil }
        let plan = quotas[tenant.plan] ?? RequestQuota()
        let quota = RequestQuota(
            perDay: tenant.customQuota.perDay ?? plan.perDay, perMonth: tenant.customQuota.perMonth ?? plan.perMonth)
        return quota.isEmpty ? nil : quota
    }

    /// Plan names, sorted by limit.
    public var names: [String] { limits.sorted { $0.value < $1.value }.map(\.key) }
}

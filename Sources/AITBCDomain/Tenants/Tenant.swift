import Foundation

/// An isolated namespace: its keys, usage and audit events are invisible to every other tenant.
public struct Tenant: Sendable, Equatable {
    public var id: String
    public var name: String
    public var plan: String
    /// A limit that overrides the plan's (an enterprise deal, a load test), or nil.
    public var customRateLimitPerMinute: Int?
    public var createdAt: Date

    public init(id: String, name: String, plan: String, customRateLimitPerMinute: Int? = nil, createdAt: Date) {
        self.id = id
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

    /// free 60, pro 600, enterprise 6000 requests per minute.
    public static let standard = PlanTable(limits: ["free": 60, "pro": 600, "enterprise": 6000])

    public init(limits: [String: Int]) { self.limits = limits }

    /// Parses `free=60,pro=600,enterprise=6000`.
    public init?(parsing text: String) {
        var limits: [String: Int] = [:]
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=")
            guard parts.count == 2, let limit = Int(parts[1].trimmingCharacters(in: .whitespaces)), limit > 0 else {
                return nil
            }
            limits[parts[0].trimmingCharacters(in: .whitespaces)] = limit
        }
        guard !limits.isEmpty else { return nil }
        self.limits = limits
    }

    /// The per-minute limit of `plan`, or nil for an unknown plan.
    public func limit(of plan: String) -> Int? { limits[plan] }

    /// The limit in force for `tenant`: its custom limit, else its plan's (an unknown plan gets the lowest).
    public func effectiveLimit(for tenant: Tenant) -> Int {
        tenant.customRateLimitPerMinute ?? limits[tenant.plan] ?? limits.values.min() ?? 60
    }

    /// Plan names, sorted by limit.
    public var names: [String] { limits.sorted { $0.value < $1.value }.map(\.key) }
}

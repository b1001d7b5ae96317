/// What a key is for; fixed when the key is created.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Submits and reads the tenant's jobs.
    case client
    /// Registers, heartbeats, polls and delivers results.
    case miner
    /// Manages the tenant's keys and reads its usage and audit log; may act as a client or a miner too
    /// (it holds every permission of the keys it creates: see ``Principal/requireDelegable(_:action:)``).
    case master
    /// Administers the deployment: tenants, plans, any key.
    case `operator`

    /// The names of ``permissions``, sorted, computed once.
    public var sortedPermissionNames: [String] { Self.sortedNames[self]! }

    private static let sortedNames: [Role: [String]] = Dictionary(
        uniqueKeysWithValues: allCases.map { ($0, $0.permissions.map(\.rawValue).sorted()) })

    /// Every permission a key of this role holds unless narrowed by scopes.
    public var permissions: Set<Permission> {
        switch self {
        case .client: return [.jobsRead, .jobsWrite]
        case .miner: return [.minersRead, .minersWrite]
        case .master:
            return [
                .jobsRead, .jobsWrite, .minersRead, .minersWrite, .keysRead, .keysWrite, .usageRead, .auditRead,
                .statsRead, .webhooksRead, .webhooksWrite,
            ]
        case .operator: return Set(Permission.all)
        }
    }
}

/// One thing a key may do, such as `jobs:read`; a key's scopes are a subset of its role's.
public struct Permission: RawRepresentable, Hashable, Sendable, Comparable {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let jobsRead = Permission(rawValue: "jobs:read")
    public static let jobsWrite = Permission(rawValue: "jobs:write")
    public static let minersRead = Permission(rawValue: "miners:read")
    public static let minersWrite = Permission(rawValue: "miners:write")
    public static let keysRead = Permission(rawValue: "keys:read")
    public static let keysWrite = Permission(rawValue: "keys:write")
    public static let usageRead = Permission(rawValue: "usage:read")
    public static let auditRead = Permission(rawValue: "audit:read")
    public static let statsRead = Permission(rawValue: "stats:read")
    public static let tenantsRead = Permission(rawValue: "tenants:read")
    public static let tenantsWrite = Permission(rawValue: "tenants:write")
    public static let webhooksRead = Permission(rawValue: "webhooks:read")
    public static let webhooksWrite = Permission(rawValue: "webhooks:write")

    /// Every permission there is.
    public static let all: [Permission] = [
        .jobsRead, .jobsWrite, .minersRead, .minersWrite, .keysRead, .keysWrite, .usageRead, .auditRead,
        .statsRead, .tenantsRead, .tenantsWrite, .webhooksRead, .webhooksWrite,
    ]

    /// What only key management needs: a superseded secret never holds these (nor may it point the
    /// tenant's webhooks, which carry key events, somewhere else).
    public static let management: Set<Permission> = [.keysRead, .keysWrite, .tenantsRead, .tenantsWrite, .webhooksWrite]

    public static func < (lhs: Permission, rhs: Permission) -> Bool { lhs.rawValue < rhs.rawValue }
}

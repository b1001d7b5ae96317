import Foundation

/// `POST /v1/tenants` body.
public struct CreateTenantRequest: Codable, Sendable, Equatable {
    /// Chosen id (`[a-z0-9_-]`, 1–64), or nil for a generated `ten_…` id.
    public var tenantID: String?
    public var name: String
    public var plan: String

    public init(tenantID: String? = nil, name: String, plan: String) {
        self.tenantID = tenantID
        self.name = name
        self.plan = plan
    }

    enum CodingKeys: String, CodingKey {
        case name, plan
        case tenantID = "tenant_id"
    }
}

/// `PATCH /v1/tenants/{id}` body: absent fields stay; `rate_limit_per_minute: null` clears the custom limit.
public struct UpdateTenantRequest: Codable, Sendable, Equatable {
    public var plan: String?
    public var name: String?
    /// nil: unchanged; `.some(nil)`: back to the plan's limit; `.some(n)`: a custom limit.
    public var rateLimitPerMinute: Int??
    /// Request quota overrides per UTC day and month, like `rate_limit_per_minute` (null: the plan's).
    public var quotaPerDay: Int??
    public var quotaPerMonth: Int??

    public init(
        plan: String? = nil, name: String? = nil, rateLimitPerMinute: Int?? = nil, quotaPerDay: Int?? = nil,
        quotaPerMonth: Int?? = nil
    ) {
        self.quotaPerDay = quotaPerDay
        self.quotaPerMonth = quotaPerMonth
        self.plan = plan
        self.name = name
        self.rateLimitPerMinute = rateLimitPerMinute
    }

    enum CodingKeys: String, CodingKey {
        case plan, name
        case rateLimitPerMinute = "rate_limit_per_minute"
        case quotaPerDay = "quota_per_day"
        case quotaPerMonth = "quota_per_month"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.plan = try container.decodeIfPresent(String.self, forKey: .plan)
        self.name = try container.decodeIfPresent(String.self, forKey: .name)
        self.rateLimitPerMinute = try container.decodeNullable(Int.self, forKey: .rateLimitPerMinute)
        self.quotaPerDay = try container.decodeNullable(Int.self, forKey: .quotaPerDay)
        self.quotaPerMonth = try container.decodeNullable(Int.self, forKey: .quotaPerMonth)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(plan, forKey: .plan)
        try container.encodeIfPresent(name, forKey: .name)
        if let limit = rateLimitPerMinute {
            try container.encode(limit, forKey: .rateLimitPerMinute)
        }
        if let quotaPerDay { try container.encode(quotaPerDay, forKey: .quotaPerDay) }
        if let quotaPerMonth { try container.encode(quotaPerMonth, forKey: .quotaPerMonth) }
    }
}

/// A tenant as the operator API shows it.
public struct TenantView: Codable, Sendable, Equatable {
    public var tenantID: String
    public var name: String
    public var plan: String
    /// The limit in force: the custom one if set, else the plan's.
    public var rateLimitPerMinute: Int
    /// The custom limit, or nil when the plan's applies.
    public var customRateLimitPerMinute: Int?
    public var createdAt: Date
    /// The first master key, with its secret: only in the answer to `POST /v1/tenants`.
    public var masterKey: APIKeyView?
    /// The request quotas in force per UTC day and month (the override, else the plan's), or nil.
    public var quotaPerDay: Int?
    public var quotaPerMonth: Int?
    /// The tenant's own overrides, or nil where the plan's applies.
    public var customQuotaPerDay: Int?
    public var customQuotaPerMonth: Int?

    public init(
        tenantID: String, name: String, plan: String, rateLimitPerMinute: Int, customRateLimitPerMinute: Int?,
        createdAt: Date, masterKey: APIKeyView? = nil, quotaPerDay: Int? = nil, quotaPerMonth: Int? = nil,
        customQuotaPerDay: Int? = nil, customQuotaPerMonth: Int? = nil
    ) {
        self.quotaPerDay = quotaPerDay
        self.quotaPerMonth = quotaPerMonth
        self.customQuotaPerDay = customQuotaPerDay
        self.customQuotaPerMonth = customQuotaPerMonth
        self.tenantID = tenantID
        self.name = name
        self.plan = plan
        self.rateLimitPerMinute = rateLimitPerMinute
        self.customRateLimitPerMinute = customRateLimitPerMinute
        self.createdAt = createdAt
        self.masterKey = masterKey
    }

    enum CodingKeys: String, CodingKey {
        case name, plan
        case tenantID = "tenant_id"
        case rateLimitPerMinute = "rate_limit_per_minute"
        case customRateLimitPerMinute = "custom_rate_limit_per_minute"
        case createdAt = "created_at"
        case masterKey = "master_key"
        case quotaPerDay = "quota_per_day"
        case quotaPerMonth = "quota_per_month"
        case customQuotaPerDay = "custom_quota_per_day"
        case customQuotaPerMonth = "custom_quota_per_month"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(name, forKey: .name)
        try container.encode(plan, forKey: .plan)
        try container.encode(rateLimitPerMinute, forKey: .rateLimitPerMinute)
        try container.encode(customRateLimitPerMinute, forKey: .customRateLimitPerMinute)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encodeIfPresent(masterKey, forKey: .masterKey)
        try container.encode(quotaPerDay, forKey: .quotaPerDay)
        try container.encode(quotaPerMonth, forKey: .quotaPerMonth)
        try container.encode(customQuotaPerDay, forKey: .customQuotaPerDay)
        try container.encode(customQuotaPerMonth, forKey: .customQuotaPerMonth)
    }
}

/// The rate-limit state of the budget that applies to a key.
public struct RateLimitStateView: Codable, Sendable, Equatable {
    /// Requests per minute.
    public var limit: Int
    /// Requests that would be admitted right now.
    public var remaining: Int
    /// Unix time in seconds when the budget is full again.
    public var reset: Int

    public init(limit: Int, remaining: Int, reset: Int) {
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
    }
}

/// `GET /v1/me`: who the calling key is.
public struct MeView: Codable, Sendable, Equatable {
    public var keyID: String
    public var name: String
    public var role: String
    /// The permissions the key holds (its scopes, or all of its role's).
    public var scopes: [String]
    public var tenantID: String
    public var plan: String
    public var expiresAt: Date?
    public var rateLimit: RateLimitStateView
    /// The tightest request quota's state, when a quota applies.
    public var quota: QuotaStateView?
    /// The key's credits, when it spends credits.
    public var credits: CreditsView?

    /// The CIDRs the key may be used from; nil: anywhere.
    public var allowedIPs: [String]?

    public init(
        keyID: String, name: String, role: String, scopes: [String], tenantID: String, plan: String,
        expiresAt: Date?, rateLimit: RateLimitStateView, quota: QuotaStateView? = nil, credits: CreditsView? = nil,
        allowedIPs: [String]? = nil
    ) {
        self.quota = quota
        self.credits = credits
        self.keyID = keyID
        self.name = name
        self.role = role
        self.scopes = scopes
        self.tenantID = tenantID
        self.plan = plan
        self.expiresAt = expiresAt
        self.rateLimit = rateLimit
        self.allowedIPs = allowedIPs
    }

    enum CodingKeys: String, CodingKey {
        case name, role, scopes, plan
        case keyID = "key_id"
        case tenantID = "tenant_id"
        case expiresAt = "expires_at"
        case rateLimit = "rate_limit"
        case quota, credits
        case allowedIPs = "allowed_ips"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(quota, forKey: .quota)
        try container.encodeIfPresent(credits, forKey: .credits)
        try container.encode(keyID, forKey: .keyID)
        try container.encode(name, forKey: .name)
        try container.encode(role, forKey: .role)
        try container.encode(scopes, forKey: .scopes)
        try container.encode(tenantID, forKey: .tenantID)
        try container.encode(plan, forKey: .plan)
        try container.encode(expiresAt, forKey: .expiresAt)
        try container.encode(rateLimit, forKey: .rateLimit)
        try container.encode(allowedIPs, forKey: .allowedIPs)
    }
}

/// `GET /health`.
public struct HealthView: Codable, Sendable, Equatable {
    public var status: String
    public init(status: String) { self.status = status }
}

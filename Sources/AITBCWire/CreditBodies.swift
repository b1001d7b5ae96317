import Foundation

/// `credits` in `POST /v1/api-keys` (`remaining` required) and `PATCH /v1/api-keys/{key_id}` (a
/// top-up: `remaining` sets the balance; `refill` absent stays, `null` stops refilling).
public struct CreditsRequest: Codable, Sendable, Equatable {
    public var remaining: Int?
    /// nil: unchanged (none on create); `.some(nil)`: no refill; `.some(refill)`: this refill.
    public var refill: CreditRefillBody??

    public init(remaining: Int? = nil, refill: CreditRefillBody?? = nil) {
        self.remaining = remaining
        self.refill = refill
    }

    enum CodingKeys: String, CodingKey { case remaining, refill }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.remaining = try container.decodeIfPresent(Int.self, forKey: .remaining)
        self.refill = try container.decodeNullable(CreditRefillBody.self, forKey: .refill)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(remaining, forKey: .remaining)
        if let refill { try container.encode(refill, forKey: .refill) }
    }
}

/// A balance set back to `amount` at the start of every UTC `interval` (`daily` or `monthly`).
public struct CreditRefillBody: Codable, Sendable, Equatable {
    public var amount: Int
    /// `daily` or `monthly`.
    public var interval: String

    public init(amount: Int, interval: String) {
        self.amount = amount
        self.interval = interval
    }
}

/// A key's credits as the key JSON and `GET /v1/me` show them.
public struct CreditsView: Codable, Sendable, Equatable {
    public var remaining: Int
    public var refill: CreditRefillBody?
    /// When the balance is next set back to the refill's amount; nil without a refill.
    public var nextRefillAt: Date?

    public init(remaining: Int, refill: CreditRefillBody?, nextRefillAt: Date?) {
        self.remaining = remaining
        self.refill = refill
        self.nextRefillAt = nextRefillAt
    }

    enum CodingKeys: String, CodingKey {
        case remaining, refill
        case nextRefillAt = "next_refill_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(remaining, forKey: .remaining)
        try container.encode(refill, forKey: .refill)
        try container.encode(nextRefillAt, forKey: .nextRefillAt)
    }
}

/// The state of the tightest request quota that applies (`GET /v1/me`'s `quota`).
public struct QuotaStateView: Codable, Sendable, Equatable {
    /// `day` or `month`.
    public var period: String
    public var limit: Int
    public var remaining: Int
    /// Unix seconds when the period ends.
    public var reset: Int

    public init(period: String, limit: Int, remaining: Int, reset: Int) {
        self.period = period
        self.limit = limit
        self.remaining = remaining
        self.reset = reset
    }
}

import AITBCWire
import Foundation

/// A key's credits as asked for and checked: the balance to set and the refill.
struct ValidCredits: Sendable, Equatable {
    var remaining: Int
    var refill: CreditRefill?
}

/// Credits on keys: what may be asked for, and what a key that itself spends credits may hand out.
extension KeyService {
    /// Largest balance or refill amount a key may be given.
    static let maximumCredits = 1_000_000_000_000

    /// `request` checked (400 naming the field otherwise); `existing` fills what a change leaves out.
    static func validCredits(_ request: CreditsRequest, existing: CreditBalance?) throws -> ValidCredits {
        guard let remaining = request.remaining ?? existing?.remaining else {
            throw CoordinatorError.invalidField("credits.remaining", "credits.remaining is required")
        }
        guard (0...maximumCredits).contains(remaining) else {
            throw CoordinatorError.invalidField("credits.remaining", "credits.remaining must be 0 … \(maximumCredits)")
        }
        var refill = existing?.refill
        if let asked = request.refill {
            refill = try asked.map { (body: CreditRefillBody) throws -> CreditRefill in
                guard (1...maximumCredits).contains(body.amount) else {
                    throw CoordinatorError.invalidField("credits.refill.amount", "credits.refill.amount must be 1 … \(maximumCredits)")
                }
                guard let interval = Self.refillInterval(body.interval) else {
                    throw CoordinatorError.invalidField("credits.refill.interval", "credits.refill.interval must be daily or monthly")
                }
                return CreditRefill(amount: body.amount, interval: interval)
            }
        }
        return ValidCredits(remaining: remaining, refill: refill)
    }

    /// `daily` or `monthly` (also `day`, `month`).
    static func refillInterval(_ text: String) -> QuotaPeriod? {
        switch text {
        case "daily", "day": .day
        case "monthly", "month": .month
        default: nil
        }
    }

    /// What the caller lacks to give a key `credits` (nil: unmetered): a caller that spends credits
    /// itself hands out no unmetered key, no more than it has left, and no refill larger than its own
    /// (of the same interval). A caller without credits may give any.
    func creditGaps(_ credits: ValidCredits?, by caller: Principal) async throws -> [String] {
        guard let own = try await meters?.balance(of: caller.key) else { return [] }
        guard let credits else { return ["credits"] }
        if credits.remaining > own.remaining { return ["credits"] }
        if let refill = credits.refill {
            guard let ownRefill = own.refill, ownRefill.interval == refill.interval, ownRefill.amount >= refill.amount else {
                return ["credits.refill"]
            }
        }
        return []
    }

    /// A balance and refill as audit events record them.
    static func auditValue(remaining: Int, refill: CreditRefill?) -> JSONValue {
        [
            "remaining": .int(remaining),
            "refill": refill.map { (refill: CreditRefill) -> JSONValue in
                ["amount": .int(refill.amount), "interval": .string(refill.interval.wireName)]
            } ?? .null,
        ]
    }
}

extension QuotaPeriod {
    /// How a refill interval is written on the wire: `daily` or `monthly`.
    public var wireName: String {
        switch self {
        case .day: "daily"
        case .month: "monthly"
        }
    }
}

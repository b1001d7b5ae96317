/// What a key that spends credits carries on its record: how its balance refills, if it does. The
/// balance itself changes on every request and lives in ``SpendingMeters``.
public struct KeyCredits: Sendable, Equatable, Hashable {
    /// Refills the balance to `amount` at the start of each `interval` (UTC), or nil: no refill.
    public var refill: CreditRefill?

    public init(refill: CreditRefill? = nil) { self.refill = refill }
}

/// A balance set back to `amount` at the start of every `interval` (UTC). Unspent credits do not
/// carry over: a refill sets the balance, it does not add to it (a monthly allowance, as Unkey's).
public struct CreditRefill: Sendable, Equatable, Hashable {
    public var amount: Int
    public var interval: QuotaPeriod

    public init(amount: Int, interval: QuotaPeriod) {
        self.amount = amount
        self.interval = interval
    }
}

extension KeyCredits {
    /// How a key's credits are stored in its row: `-` without a refill, `1000/month` with one.
    public var storageText: String {
        refill.map { "\($0.amount)/\($0.interval.rawValue)" } ?? "-"
    }

    /// Reads ``storageText``.
    public init?(storageText: String) {
        guard storageText != "-" else {
            self.init()
            return
        }
        let parts = storageText.split(separator: "/")
        guard parts.count == 2, let amount = Int(parts[0]), let interval = QuotaPeriod(rawValue: String(parts[1])) else {
            return nil
        }
        self.init(refill: CreditRefill(amount: amount, interval: interval))
    }
}

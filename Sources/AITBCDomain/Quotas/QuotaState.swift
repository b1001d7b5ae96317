/// The state of the tightest quota a request was counted against (`X-Quota-*`).
public struct QuotaState: Sendable, Equatable {
    public var period: QuotaPeriod
    public var limit: Int
    /// Requests the quota still admits in this period.
    public var remaining: Int
    /// Unix seconds when the period ends.
    public var resetUnixSeconds: Int64
    /// Unix seconds when this state was observed (the IETF `RateLimit` field counts `t` from it).
    public var observedAtUnixSeconds: Int64

    public init(period: QuotaPeriod, limit: Int, remaining: Int, resetUnixSeconds: Int64, observedAtUnixSeconds: Int64) {
        self.period = period
        self.limit = limit
        self.remaining = remaining
        self.resetUnixSeconds = resetUnixSeconds
        self.observedAtUnixSeconds = observedAtUnixSeconds
    }
}

/// A key's credit balance as shown to callers.
public struct CreditBalance: Sendable, Equatable {
    public var remaining: Int
    public var refill: CreditRefill?
    /// Unix seconds of the next refill, when the balance refills.
    public var nextRefillUnixSeconds: Int64?

    public init(remaining: Int, refill: CreditRefill?, nextRefillUnixSeconds: Int64?) {
        self.remaining = remaining
        self.refill = refill
        self.nextRefillUnixSeconds = nextRefillUnixSeconds
    }
}

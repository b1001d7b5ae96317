import Foundation

/// How webhooks are sent: the retry schedule, the time limits and where they may go.
public struct WebhookSettings: Sendable {
    /// The first retry's delay; each later one doubles (with jitter).
    public var retryBase: Duration
    /// How long a delivery is retried after its event.
    public var retryWindow: Duration
    /// An endpoint failing this long without a success is disabled.
    public var disableAfter: Duration
    /// How long a delivery attempt may take.
    public var timeout: Duration
    /// How often the deliverer looks for due deliveries when nothing wakes it.
    public var pollInterval: Duration
    public var targets: WebhookTargetPolicy

    public init(
        retryBase: Duration = .seconds(30), retryWindow: Duration = .seconds(24 * 3600),
        disableAfter: Duration = .seconds(3 * 24 * 3600), timeout: Duration = .seconds(10),
        pollInterval: Duration = .seconds(5), targets: WebhookTargetPolicy = WebhookTargetPolicy(requireHTTPS: false, allowPrivate: false)
    ) {
        self.retryBase = retryBase
        self.retryWindow = retryWindow
        self.disableAfter = disableAfter
        self.timeout = timeout
        self.pollInterval = pollInterval
        self.targets = targets
    }

    /// The delay before the attempt after failed attempt number `attempt` (1-based): the base doubled
    /// per earlier failure, times a jitter in 0.8 … 1.2 (`unit` in 0 … 1), at most 6 hours.
    public func retryDelay(afterAttempt attempt: Int, unit: Double) -> TimeInterval {
        let doubled = retryBase.timeInterval * pow(2, Double(min(attempt - 1, 30)))
        return min(doubled, 6 * 3600) * (0.8 + 0.4 * unit)
    }
}

extension Duration {
    /// The duration in seconds, as a `TimeInterval`.
    var timeInterval: TimeInterval {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}

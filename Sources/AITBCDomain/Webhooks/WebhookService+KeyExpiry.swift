import AITBCWire
import Foundation

extension WebhookService {
    /// A notice about keys nearing or past their expiry: its name (each is sent once per key), its
    /// event type and the window of expiry times it covers, relative to now.
    struct ExpiryNotice {
        var name: String
        var type: WebhookEventType
        var after: TimeInterval
        var before: TimeInterval
        var daysLeft: Int?
    }

    static let day: TimeInterval = 24 * 3600
    /// 7 days before (for a key with more than a day left), 1 day before, and once expired (within a week).
    static let expiryNotices = [
        ExpiryNotice(name: "expiring_7d", type: .keyExpiring, after: day, before: 7 * day, daysLeft: 7),
        ExpiryNotice(name: "expiring_1d", type: .keyExpiring, after: 0, before: day, daysLeft: 1),
        ExpiryNotice(name: "expired", type: .keyExpired, after: -7 * day, before: 0, daysLeft: nil),
    ]

    /// Writes `api_key.expiring` (7 days and 1 day before) and `api_key.expired` events for the keys of
    /// subscribed tenants, each once per key; returns how many it wrote. Safe on every instance.
    @discardableResult
    public func sweepKeyExpiry() async -> Int {
        let now = time.now()
        var written = 0
        for notice in Self.expiryNotices {
            let tenants = store.webhookOutbox.tenants(subscribedTo: notice.type)
            guard !tenants.isEmpty else { continue }
            do {
                let keys = try await store.keysAwaitingNotice(
                    notice.name, tenantIDs: tenants, expiringAfter: now.addingTimeInterval(notice.after),
                    before: now.addingTimeInterval(notice.before), limit: 500)
                for key in keys {
                    var event = WebhookEvent.key(notice.type, key, at: now)
                    if let days = notice.daysLeft { event.data["days_left"] = .int(days) }
                    if try await store.recordKeyNotice(keyID: key.id, notice: notice.name, event: event) { written += 1 }
                }
            } catch {
                logger.warning("could not sweep key expiry notices; will retry", metadata: ["error": "\(error)"])
            }
        }
        return written
    }

    /// The periodic work of every instance: reload the subscriptions (the backstop for a missed
    /// cluster event), then send the key-expiry notices due.
    public func housekeeping() async {
        await refreshSubscriptions()
        await sweepKeyExpiry()
    }
}

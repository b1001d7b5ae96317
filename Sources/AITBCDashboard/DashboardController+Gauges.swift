import AITBCDomain
import AITBCWire
import Foundation

/// The quota and credit gauges: the tenant's day and month quota on its overview pages, a key's
/// credits on its page. Read from the API's own counters, charging nothing.
extension DashboardController {
    /// The gauges of the tenant's quotas (`hasQuota`, `quotas`), or nothing when no quota applies.
    func quotaGauges(_ signedIn: SignedIn) async throws -> [String: Any] {
        let tenant = signedIn.principal.tenant
        guard let quota = accounts.plans.effectiveQuota(for: tenant), let meters = budgets.meters else { return [:] }
        let states = try await meters.quotaStates(of: signedIn.principal, quota: quota)
        guard !states.isEmpty else { return [:] }
        return [
            "hasQuota": true,
            "quotas": states.map { state -> [String: Any] in
                let reset = Date(timeIntervalSince1970: TimeInterval(state.resetUnixSeconds))
                let used = max(0, state.limit - state.remaining)
                return [
                    "period": state.period.rawValue, "label": state.period == .day ? "Today (UTC)" : "This month (UTC)",
                    "used": used, "limit": state.limit, "remaining": state.remaining,
                    "high": max(1, state.limit * 9 / 10), "resetAt": RFC3339.string(from: reset),
                    "resetText": DashboardPages.readable(reset),
                ]
            },
        ]
    }

    /// The credit gauge of `record` (`credits`), or nil for a key without credits.
    func creditGauge(_ record: APIKeyRecord) async throws -> [String: Any]? {
        guard record.credits != nil, let balance = try await keys.meters?.balance(of: record) else { return nil }
        var gauge: [String: Any] = ["remaining": balance.remaining]
        if let refill = balance.refill {
            gauge["refillAmount"] = refill.amount
            gauge["refillInterval"] = refill.interval == .day ? "daily" : "monthly"
            gauge["gaugeMax"] = max(refill.amount, balance.remaining)
            gauge["low"] = max(1, refill.amount / 10)
            if let next = balance.nextRefillUnixSeconds {
                let at = Date(timeIntervalSince1970: TimeInterval(next))
                gauge["nextRefillAt"] = RFC3339.string(from: at)
                gauge["nextRefillText"] = DashboardPages.readable(at)
            }
        }
        return gauge
    }
}

import AITBCWire
import Foundation

extension WebhookEvent {
    /// `quota.threshold`: tenant `tenantID` has used `used` of its `limit` requests this `period`,
    /// reaching `percent` % (80 or 100); the period ends at `resetsAt` (Unix seconds).
    public static func quotaThreshold(
        tenantID: String, period: QuotaPeriod, limit: Int, used: Int, percent: Int, resetsAt: Int64, at now: Date
    ) -> WebhookEvent {
        WebhookEvent(
            id: newID(), tenantID: tenantID, type: .quotaThreshold, createdAt: now,
            data: [
                "tenant_id": .string(tenantID), "period": .string(period.rawValue), "limit": .int(limit),
                "used": .int(min(used, limit)), "threshold_percent": .int(percent),
                "resets_at": .string(RFC3339.string(from: Date(timeIntervalSince1970: TimeInterval(resetsAt)))),
            ])
    }

    /// `credits.low`: key `keyID` of `tenantID` has `remaining` credits, at or below `threshold`
    /// (10 % of what it was last given, or 0).
    public static func creditsLow(keyID: String, tenantID: String, remaining: Int, threshold: Int, at now: Date) -> WebhookEvent {
        WebhookEvent(
            id: newID(), tenantID: tenantID, type: .creditsLow, createdAt: now,
            data: [
                "key_id": .string(keyID), "tenant_id": .string(tenantID), "remaining": .int(max(0, remaining)),
                "threshold": .int(threshold),
            ])
    }
}

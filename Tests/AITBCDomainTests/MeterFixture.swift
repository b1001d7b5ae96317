import AITBCDomain
import Foundation

/// What the quota and credit suites share: a caller of tenant `t1` (plan `free`, 1,000 a minute)
/// whose key may spend credits and whose tenant may have quotas, and the instants they start at.
enum MeterFixture {
    /// 2026-11-18T11:06:40Z.
    static let start = Date(timeIntervalSince1970: 1_795_000_000)
    /// 2026-11-18T23:59:00Z: a minute before a day ends.
    static let lateEvening = Date(timeIntervalSince1970: 1_795_046_340)
    /// 2026-11-19T00:00:00Z.
    static let midnight = Date(timeIntervalSince1970: 1_795_046_400)

    static func principal(
        quota: RequestQuota? = nil, credits: KeyCredits? = nil, key: String = "key_a", name: String = "a", at createdAt: Date
    ) -> Principal {
        Principal(
            key: APIKeyRecord(
                id: key, tenantID: "t1", name: name, role: .client, scopes: nil, digest: APIKeyDigest(of: name), hint: "",
                createdAt: createdAt, credits: credits),
            tenant: Tenant(id: "t1", name: "t1", plan: "free", createdAt: createdAt), tenantLimit: 1000, quota: quota)
    }
}

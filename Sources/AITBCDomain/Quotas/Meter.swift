/// One counter of ``SpendingMeters``: a tenant's requests in the current day or month, or a key's
/// credit balance.
public enum Meter: Hashable, Sendable {
    case quota(tenantID: String, period: QuotaPeriod)
    case credits(keyID: String)

    /// The name it is stored under: `quota:day:<tenant>`, `quota:month:<tenant>`, `credits:<key id>`.
    public var storageName: String {
        switch self {
        case .quota(let tenantID, let period): "quota:\(period.rawValue):\(tenantID)"
        case .credits(let keyID): "credits:\(keyID)"
        }
    }
}

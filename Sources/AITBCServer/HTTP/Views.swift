import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

extension APIKeyRecord {
    /// The wire form of this key at `now`, with `secret` only when it was just issued.
    func view(at now: Date, secret: String? = nil, credits: CreditBalance? = nil) -> APIKeyView {
        APIKeyView(
            keyID: id, tenantID: tenantID, name: name, role: role.rawValue, scopes: scopes?.map(\.rawValue).sorted(),
            hint: hint, status: status(at: now), createdAt: createdAt, expiresAt: expiresAt, revokedAt: revokedAt,
            lastUsedAt: lastUsedAt, lastUsedFrom: lastUsedFrom, rateLimitPerMinute: rateLimitPerMinute,
            previousSecretValidUntil: previousValidUntil.flatMap { $0 > now ? $0 : nil }, metadata: metadata,
            apiKey: secret, credits: credits?.view, allowedIPs: allowedIPs?.entries)
    }
}

extension Tenant {
    /// The wire form of this tenant.
    func view(plans: PlanTable, masterKey: APIKeyView? = nil) -> TenantView {
        TenantView(
            tenantID: id, name: name, plan: plan, rateLimitPerMinute: plans.effectiveLimit(for: self),
            customRateLimitPerMinute: customRateLimitPerMinute, createdAt: createdAt, masterKey: masterKey,
            quotaPerDay: plans.effectiveQuota(for: self)?.perDay, quotaPerMonth: plans.effectiveQuota(for: self)?.perMonth,
            customQuotaPerDay: customQuota.perDay, customQuotaPerMonth: customQuota.perMonth)
    }
}

extension AuditEvent {
    var view: AuditEventView {
        AuditEventView(
            eventID: id, type: kind.rawValue, tenantID: tenantID, actorKeyID: actorKeyID, targetID: targetID,
            createdAt: createdAt, data: data)
    }
}

/// `?limit=` and `?cursor=` of a listing.
struct PageRequest {
    var limit: Int
    var cursor: ListCursor?

    static let defaultLimit = 20
    static let maximumLimit = 100

    init(_ request: Request) throws {
        let query = request.uri.queryParameters
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...Self.maximumLimit).contains(value) else {
                throw CoordinatorError.invalidField("limit", "limit must be an integer 1 … \(Self.maximumLimit)")
            }
            limit = value
        } else {
            limit = Self.defaultLimit
        }
        if let raw = query["cursor"], !raw.isEmpty {
            guard let cursor = ListCursor(token: String(raw)) else {
                throw CoordinatorError.invalidField("cursor", "cursor is not one this server issued")
            }
            self.cursor = cursor
        }
    }

    /// Fetches one more than a page to learn whether another page follows.
    var fetchLimit: Int { limit + 1 }

    /// The page of `items` (fetched with ``fetchLimit``) and the cursor of the next page.
    func page<Item>(_ items: [Item], cursor: (Item) -> ListCursor) -> (items: [Item], next: String?) {
        guard items.count > limit else { return (items, nil) }
        let shown = Array(items.prefix(limit))
        return (shown, shown.last.map { cursor($0).token })
    }
}

extension Request {
    /// A path parameter that the route guarantees.
    func parameter(_ name: String, in context: some RequestContext) throws -> String {
        guard let value = context.parameters.get(name) else {
            throw CoordinatorError.invalidField(name, "\(name) is missing from the path")
        }
        return value
    }
}

extension CreditBalance {
    /// The wire form of a key's credits.
    var view: CreditsView {
        CreditsView(
            remaining: remaining, refill: refill.map { CreditRefillBody(amount: $0.amount, interval: $0.interval.wireName) },
            nextRefillAt: nextRefillUnixSeconds.map { Date(timeIntervalSince1970: TimeInterval($0)) })
    }
}

extension QuotaState {
    /// The wire form of a quota's state (`GET /v1/me`).
    var view: QuotaStateView {
        QuotaStateView(period: period.rawValue, limit: limit, remaining: remaining, reset: Int(resetUnixSeconds))
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/me`: the calling key, its tenant and plan, and its current limit state.
///
/// The route most often called in a tight loop (SDK health checks, the benchmark): the JSON that
/// does not change between requests is written once per key and reused while the key and plan stay
/// the same.
struct IdentityController {
    /// What the cached JSON was written from; a change in any of it writes it anew.
    struct CachedMe: Sendable {
        var view: MeView
        var parts: MeView.StaticParts
        var scopes: Set<Permission>?
        var allowedIPs: IPAllowList?
    }

    let cache = BoundedCache<String, CachedMe>(capacity: 10_000)
    /// Where a key's credit balance is read, for a key that spends credits.
    var meters: SpendingMeters?
    static let contentType: HTTPFields = [.contentType: "application/json; charset=utf-8"]

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("me", method: .get) { _, context in
            let key = context.principal.key
            let decision = context.rateDecision
            let limit = RateLimitStateView(
                limit: decision.limit, remaining: decision.remaining, reset: Int(decision.resetUnixSeconds))
            var view = MeView(
                keyID: key.id, name: key.name, role: key.role.rawValue, scopes: [], tenantID: key.tenantID,
                plan: context.principal.tenant.plan, expiresAt: key.expiresAt, rateLimit: limit)
            let parts: MeView.StaticParts
            if let cached = cache.value(for: key.id), cached.view.name == view.name, cached.view.plan == view.plan,
                cached.view.expiresAt == view.expiresAt, cached.view.tenantID == view.tenantID,
                cached.view.role == view.role, cached.scopes == key.scopes, cached.allowedIPs == key.allowedIPs
            {
                parts = cached.parts
            } else {
                view.scopes = key.scopes.map { $0.map(\.rawValue).sorted() } ?? key.role.sortedPermissionNames
                view.allowedIPs = key.allowedIPs?.entries
                parts = view.staticParts()
                cache.set(CachedMe(view: view, parts: parts, scopes: key.scopes, allowedIPs: key.allowedIPs), for: key.id)
            }
            // Quotas and credits change with every request: their numbers are written each time, like the rate limit's.
            // The balance the admission's charge left (no second read); when none was taken, read it.
            let credits: CreditsView?
            if let remaining = context.creditsRemaining, let meters {
                credits = meters.balance(of: key, charged: remaining)?.view
            } else {
                credits = key.credits == nil ? nil : try await meters?.balance(of: key)?.view
            }
            return Response(
                status: .ok, headers: Self.contentType,
                body: ResponseBody(
                    byteBuffer: MeView.jsonBuffer(parts, rateLimit: limit, quota: context.quota?.view, credits: credits)))
        }
    }
}

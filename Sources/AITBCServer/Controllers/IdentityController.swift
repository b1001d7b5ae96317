import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird

/// `GET /v1/me`: the calling key, its tenant and plan, and its current limit state.
struct IdentityController {
    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>, registry: RouteRegistry) {
        registry.on(group, prefix: "/v1", .get, "me") { _, context in
            let key = context.principal.key
            let decision = context.rateDecision
            let view = MeView(
                keyID: key.id, name: key.name, role: key.role.rawValue,
                scopes: key.scopes.map { $0.map(\.rawValue).sorted() } ?? key.role.sortedPermissionNames,
                tenantID: key.tenantID,
                plan: context.principal.tenant.plan, expiresAt: key.expiresAt,
                rateLimit: RateLimitStateView(
                    limit: decision.limit, remaining: decision.remaining, reset: Int(decision.resetUnixSeconds)))
            return Response(
                status: .ok, headers: [.contentType: "application/json; charset=utf-8"],
                body: ResponseBody(byteBuffer: view.jsonBuffer()))
        }
    }
}

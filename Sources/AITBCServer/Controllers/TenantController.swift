import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The operator's tenant routes: create, list, get, change plan or limit.
struct TenantController {
    let tenants: TenantService
    let time: any TimeSource

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        let plans = tenants.plans
        group.on("tenants", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(CreateTenantRequest.self, context: context)
            let (tenant, master) = try await tenants.create(
                id: body.tenantID, name: body.name, plan: body.plan, by: context.principal)
            return JSONResponse.makeWithSecret(
                status: .created,
                tenant.view(plans: plans, masterKey: master.record.view(at: time.now(), secret: master.secret)))
        }
        group.on("tenants", method: .get) { request, context in
            let page = try PageRequest(request)
            let found = try await tenants.list(by: context.principal, after: page.cursor, limit: page.fetchLimit)
            let shown = page.page(found) { ListCursor(createdAtMilliseconds: $0.createdAt.unixMilliseconds, id: $0.id) }
            return JSONResponse.make(Page(items: shown.items.map { $0.view(plans: plans) }, nextCursor: shown.next))
        }
        group.on("tenants/{tenant_id}", method: .get) { request, context in
            let tenant = try await tenants.get(try request.parameter("tenant_id", in: context), by: context.principal)
            return JSONResponse.make(tenant.view(plans: plans))
        }
        group.on("tenants/{tenant_id}", method: .patch) { request, context in
            var request = request
            let id = try request.parameter("tenant_id", in: context)
            let body = try await request.decodeJSON(UpdateTenantRequest.self, context: context)
            let tenant = try await tenants.update(
                id, plan: body.plan, name: body.name, rateLimitPerMinute: body.rateLimitPerMinute,
                quotaPerDay: body.quotaPerDay, quotaPerMonth: body.quotaPerMonth, by: context.principal)
            return JSONResponse.make(tenant.view(plans: plans))
        }
    }
}

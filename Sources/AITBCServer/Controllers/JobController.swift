import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird

/// The job routes. Until the job lifecycle lands, listing answers an empty page so that
/// existing clients (and the README's curl example) see a well-formed 200.
struct JobController {
    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>, registry: RouteRegistry) {
        registry.on(group, prefix: "/v1", .get, "jobs") { request, context in
            try context.principal.require(.jobsRead)
            _ = try PageRequest(request)
            return JSONResponse.make(Page<JSONValue>(items: [], nextCursor: nil))
        }
    }
}

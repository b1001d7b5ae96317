import AITBCDomain
import HTTPTypes
import Hummingbird

/// Answers a request that no route matched. Added to the router after every route, so it wraps the
/// router's not-found answer only: 405 `METHOD_NOT_ALLOWED` with `Allow` when the path is served for
/// other methods, else 404 `NOT_FOUND`.
///
/// A path inside a group that needs a key (`/v1/…`, `/metrics`) is answered as the group's routes
/// are: the key is checked and charged first. An anonymous caller gets 401 whether or not the route
/// exists; a caller with a valid key gets the 404 or 405 with its budget's `X-RateLimit-*` headers.
struct UnroutedRequestMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext

    /// Each served route: its path pattern's segments and its method.
    let routes: [(segments: [RouterPath.Element], method: HTTPRequest.Method)]
    /// The first path segment of each group whose routes need a key.
    let keyedGroups: Set<Substring>
    let keys: APIKeyMiddleware

    init(routes: [(path: RouterPath, method: HTTPRequest.Method)], keyedGroups: [String], keys: APIKeyMiddleware) {
        self.routes = routes.map { (segments: $0.path.components, method: $0.method) }
        self.keyedGroups = Set(keyedGroups.map { Substring($0) })
        self.keys = keys
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        // A routed request (a route added after this middleware, as tests do) is not this middleware's.
        guard context.endpointPath == nil else { return try await next(request, context) }
        let segments = request.uri.path.split(separator: "/")
        let allowed = allowedMethods(for: segments)
        let answer =
            allowed.isEmpty
            ? CoordinatorError.notFound(.notFound, "No route matches this path")
            : CoordinatorError.methodNotAllowed(request.method.rawValue, allowed: allowed)
        guard let group = segments.first, keyedGroups.contains(group) else { throw answer }
        return try await keys.handle(request, context: context) { _, _ in throw answer }
    }

    /// The methods served on paths matching `segments` (a `{parameter}` segment matches anything).
    func allowedMethods(for segments: [Substring]) -> [String] {
        var methods: [String] = []
        for route in routes where route.segments.count == segments.count {
            guard zip(route.segments, segments).allSatisfy({ $0 ~= $1 }) else { continue }
            if !methods.contains(route.method.rawValue) { methods.append(route.method.rawValue) }
        }
        return methods
    }
}

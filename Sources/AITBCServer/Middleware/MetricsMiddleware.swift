import Hummingbird

/// Counts every request by method, route pattern and status.
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let metrics: ServerMetrics

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let response = try await next(request, context)
        metrics.countRequest(
            method: request.method.rawValue, route: context.endpointPath ?? "NotFound", status: response.status.code)
        return response
    }
}

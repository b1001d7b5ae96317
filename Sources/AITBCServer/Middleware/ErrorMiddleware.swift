import AITBCDomain
import Hummingbird

/// Turns whatever was thrown into the contract's JSON error, here rather than in the router, so that
/// the middleware around it (request id, metrics, request log) sees every answer. Hummingbird's own
/// errors and anything unexpected are translated by ``CoordinatorError/init(translating:logger:)``.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return try CoordinatorError(translating: error, logger: context.logger).response(from: request, context: context)
        }
    }
}

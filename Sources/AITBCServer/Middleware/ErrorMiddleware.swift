import AITBCDomain
import HTTPTypes
import Hummingbird

/// The outermost middleware: whatever was thrown, the client gets the contract's JSON error.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let routes: RouteTableBox

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return response(for: error, request: request, context: context)
        }
    }

    /// The JSON error response for `error`; an unmatched method on a known path becomes 405 with `Allow`.
    func response(for error: any Error, request: Request, context: some RequestContext) -> Response {
        if let error = error as? HTTPError, error.status == .notFound,
            (context.endpointPath ?? "NotFound") == "NotFound"
        {
            let allowed = routes.methods(for: request.uri.path)
            if !allowed.isEmpty {
                let list = allowed.map(\.rawValue).joined(separator: ", ")
                var response = ErrorResponses.response(
                    for: CoordinatorError(
                        .methodNotAllowed, code: "METHOD_NOT_ALLOWED",
                        message: "\(request.method.rawValue) is not allowed here; use \(list)"))
                response.headers[.allow] = list
                return response
            }
        }
        return ErrorResponses.response(for: error, logger: context.logger)
    }
}

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
        } catch let error as HTTPError where error.status == .notFound && (context.endpointPath ?? "NotFound") == "NotFound" {
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else { return ErrorResponses.response(for: error, logger: context.logger) }
            var response = ErrorResponses.response(
                for: CoordinatorError(
                    .methodNotAllowed, code: "METHOD_NOT_ALLOWED",
                    message: "\(request.method.rawValue) is not allowed here; use \(allowed.map(\.rawValue).joined(separator: ", "))"))
            response.headers[.allow] = allowed.map(\.rawValue).joined(separator: ", ")
            return response
        } catch {
            return ErrorResponses.response(for: error, logger: context.logger)
        }
    }
}

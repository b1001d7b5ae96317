import HTTPTypes
import Hummingbird

/// Tells browsers to reach this server over HTTPS only (`Strict-Transport-Security`); added when the
/// coordinator serves HTTPS itself. Behind a TLS-terminating proxy, the proxy sends it.
struct StrictTransportSecurityMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    static let header = HTTPField.Name("Strict-Transport-Security")!
    /// One year, the value browsers' preload lists ask for.
    static let value = "max-age=31536000"

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[Self.header] = Self.value
        return response
    }
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// One structured log line per request: method, route, status, duration, key id.
///
/// The query string is never logged (it may hold `api_key`), nor is any header.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let level: Logger.Level

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let start = ContinuousClock.now
        let response = try await next(request, context)
        if context.logger.logLevel <= level {
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            context.logger.log(
                level: level, "request",
                metadata: [
                    "method": .string(request.method.rawValue),
                    "path": .string(context.endpointPath ?? request.uri.path),
                    "status": .stringConvertible(response.status.code),
                    "duration_us": .stringConvertible(microseconds),
                    "key_id": .string(response.headers[KeyIDHeader.name] ?? "-"),
                ])
        }
        return response
    }
}

/// The calling key's public id, echoed in `X-AITBC-Key-ID` (never the secret).
enum KeyIDHeader {
    static let name = HTTPField.Name("X-AITBC-Key-ID")!
}

import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// One structured log line per request: method, route, status, duration, key id (and, for a key
/// refused before its route ran, why and the client address).
///
/// The query string is never logged (it may hold `api_key`), nor is any header.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    let level: Logger.Level

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard context.logger.logLevel <= level else { return try await next(request, context) }
        let start = ContinuousClock.now
        var context = context
        let entry = RequestLogEntry()
        context.requestLog = entry
        let response = try await next(request, context)
        do {
            let elapsed = ContinuousClock.now - start
            let microseconds = elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue),
                "path": .string(context.endpointPath ?? request.uri.path),
                "status": .stringConvertible(response.status.code),
                "duration_us": .stringConvertible(microseconds),
                "key_id": .string(entry.keyID ?? "-"),
            ]
            if let refusal = entry.refusal {
                metadata["refused"] = .string(refusal.code)
                metadata["client"] = .string(refusal.client ?? "-")
            }
            context.logger.log(level: level, "request", metadata: metadata)
        }
        return response
    }
}

/// What inner middleware tells the request log about a request: the calling key's public id.
final class RequestLogEntry: @unchecked Sendable {
    // Written once by the API-key middleware before the log line is written, in the same task.
    var keyID: String?
    /// Why a known key was refused before its route ran (`IP_NOT_ALLOWED`), and from which client address.
    var refusal: (code: String, client: String?)?
}

import HTTPTypes
import Hummingbird

/// Echoes a request id as `X-Request-ID` on every response: the caller's own when it sent a sane
/// one (also put on the log lines), else the id the server gave the request.
struct RequestIDMiddleware: RouterMiddleware {
    typealias Context = CoordinatorRequestContext
    static let header = HTTPField.Name("X-Request-ID")!

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let incoming = request.headers[Self.header].flatMap(Self.acceptable)
        if let incoming { context.logger[metadataKey: "request_id"] = .string(incoming) }
        var response = try await next(request, context)
        response.headers.append(HTTPField(name: Self.header, value: incoming ?? context.id))
        return response
    }

    /// 1–128 of letters, digits, `.`, `_`, `-`: anything else is replaced, never echoed.
    static func acceptable(_ value: String) -> String? {
        guard !value.isEmpty, value.utf8.count <= 128,
            value.utf8.allSatisfy({ byte in
                (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                    || byte == 45 || byte == 46 || byte == 95
            })
        else { return nil }
        return value
    }
}

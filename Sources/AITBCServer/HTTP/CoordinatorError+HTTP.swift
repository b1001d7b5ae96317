import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// The one place where errors become responses of the contract's shape: a ``CoordinatorError``
/// renders itself, with the headers that travel with it (`Retry-After`, `X-RateLimit-*`, `Allow`).
extension CoordinatorError: HTTPResponseError {
    /// The HTTP status of the error's kind.
    public var status: HTTPResponse.Status {
        switch kind {
        case .invalidRequest: .badRequest
        case .unauthorized: .unauthorized
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .methodNotAllowed: .methodNotAllowed
        case .conflict: .conflict
        case .payloadTooLarge: .contentTooLarge
        case .notReady: .init(code: 425, reasonPhrase: "Too Early")
        case .rateLimited: .tooManyRequests
        case .unavailable: .serviceUnavailable
        case .internalError: .internalServerError
        }
    }

    /// The body `{"error": {code, message, details}}` and the error's headers.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/json; charset=utf-8"]
        switch kind {
        case .rateLimited(let retryAfter): headers[.retryAfter] = String(max(1, retryAfter))
        case .methodNotAllowed(let allowed) where !allowed.isEmpty: headers[.allow] = allowed.joined(separator: ", ")
        default: break
        }
        headers.appendLimits(budget, quota: quota)
        let body = ErrorBody(code: code, message: message, details: details)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body.jsonBuffer()))
    }

    /// `error` as the contract names it: a ``CoordinatorError`` as it is, Hummingbird's own errors by
    /// their status, anything else a 500 that says nothing of what failed (logged by type only).
    init(translating error: any Error, logger: Logger) {
        switch error {
        case let error as CoordinatorError:
            self = error
        case let error as StorageError:
            // The backstop for a store call made without `storageCall`: still 503, never a 500.
            self = error.coordinatorError
        case let error as HTTPError:
            self = Self.translating(error.status, message: error.body)
        case is NIOTooManyBytesError:
            self = .payloadTooLarge()
        case let error as any HTTPResponseError:
            self = Self.translating(error.status, message: nil)
        default:
            logger.error("unhandled error", metadata: ["error.type": "\(type(of: error))"])
            self = .internalError
        }
    }

    private static func translating(_ status: HTTPResponse.Status, message: String?) -> CoordinatorError {
        switch status.code {
        case 404: .notFound(.notFound, "No route matches this path")
        case 405: .methodNotAllowed("", allowed: [])
        case 413: .payloadTooLarge()
        case 400..<500: .invalidRequest(message ?? "The request is invalid")
        default: .internalError
        }
    }
}

extension HTTPFields {
    static let rateLimitLimit = HTTPField.Name("X-RateLimit-Limit")!
    static let rateLimitRemaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let rateLimitReset = HTTPField.Name("X-RateLimit-Reset")!

    /// The state of the budget a request was charged to (`X-RateLimit-Limit`, `-Remaining`, `-Reset`)
    /// and of the quota it was counted against (`X-Quota-*`), each when there is one, and both as the
    /// IETF fields `RateLimit-Policy` and `RateLimit` (``RateLimitPolicies``).
    mutating func appendLimits(_ decision: RateDecision?, quota: QuotaState? = nil) {
        if let decision {
            append(HTTPField(name: Self.rateLimitLimit, value: String(decision.limit)))
            append(HTTPField(name: Self.rateLimitRemaining, value: String(decision.remaining)))
            append(HTTPField(name: Self.rateLimitReset, value: String(decision.resetUnixSeconds)))
        }
        if let quota { appendQuota(quota) }
        guard decision != nil || quota != nil else { return }
        append(RateLimitPolicies(decision, quota: quota))
    }

    static let quotaLimit = HTTPField.Name("X-Quota-Limit")!
    static let quotaRemaining = HTTPField.Name("X-Quota-Remaining")!
    static let quotaReset = HTTPField.Name("X-Quota-Reset")!

    /// The state of the tightest quota a request was counted against: `X-Quota-Limit`, `-Remaining`,
    /// `-Reset` (Unix seconds of the period's end).
    mutating func appendQuota(_ quota: QuotaState) {
        append(HTTPField(name: Self.quotaLimit, value: String(quota.limit)))
        append(HTTPField(name: Self.quotaRemaining, value: String(quota.remaining)))
        append(HTTPField(name: Self.quotaReset, value: String(quota.resetUnixSeconds)))
    }
}

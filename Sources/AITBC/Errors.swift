import AITBCWire
import Foundation

/// Every error the SDK throws; catch a concrete type to handle one kind.
public protocol AITBCError: Error, CustomStringConvertible, Sendable {
    /// The server's error code as sent (`INVALID_API_KEY`, …), or `TRANSPORT_ERROR`: also a code
    /// newer than this SDK. ``errorCode`` is the same as an ``ErrorCode``.
    var code: String { get }
    var message: String { get }
    /// The HTTP status, or nil when no response came.
    var status: Int? { get }
    var details: [String: JSONValue] { get }
}

extension AITBCError {
    public var description: String { "\(code): \(message)" }

    /// ``code`` as an ``ErrorCode``, or nil for a code this SDK does not know (a newer server's).
    public var errorCode: ErrorCode? { ErrorCode(rawValue: code) }
}

/// The fields every server error carries.
public struct ServerErrorInfo: Sendable, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var details: [String: JSONValue]
    /// The rate-limit state that came with the error, if any.
    public var rateLimit: RateLimitState?
}

/// 401: no key, an unknown key, a revoked or expired key.
public struct AuthenticationError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
}

/// 403: the key lacks the permission, or names another tenant.
public struct PermissionError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
}

/// 429: over the rate limit (or too many failed authentications), a request quota
/// (`QUOTA_EXCEEDED`) or the key's credits (`CREDITS_EXHAUSTED`); the last two are never retried
/// automatically.
public struct RateLimitError: AITBCError {
    public let info: ServerErrorInfo
    /// Seconds to wait before retrying, from `Retry-After`.
    public let retryAfter: Int
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
    public var limit: Int? { info.rateLimit?.limit }
    public var remaining: Int? { info.rateLimit?.remaining }
    public var reset: Date? { info.rateLimit?.reset }
    /// Whether a quota or the key's credits refused, rather than the per-minute rate.
    public var isSpentAllowance: Bool { ErrorMapping.spentAllowanceCodes.contains(code) }
}

/// 404: no such job, key, tenant or route.
public struct NotFoundError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
}

/// 409: the state does not allow it (`CONFLICT_STATE`, `IDEMPOTENCY_CONFLICT`, `LAST_MASTER_KEY`);
/// also 425 `JOB_NOT_READY`.
public struct ConflictError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
}

/// 400 and 413: the request itself is wrong; `field` names the culprit when known.
public struct ValidationError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
    public var field: String? { info.details["field"]?.stringValue }
}

/// 5xx: the server failed (503 `STORAGE_UNAVAILABLE` is retried first).
public struct ServerError: AITBCError {
    public let info: ServerErrorInfo
    public var code: String { info.code }
    public var message: String { info.message }
    public var status: Int? { info.status }
    public var details: [String: JSONValue] { info.details }
}

/// No usable response: connection refused, timeout, or an answer that is not the contract's JSON.
public struct TransportError: AITBCError {
    public let message: String
    public let underlying: String?
    public var code: String { ErrorCode.transportError.rawValue }
    public var status: Int? { nil }
    public var details: [String: JSONValue] { [:] }

    public init(message: String, underlying: (any Error)? = nil) {
        self.message = message
        self.underlying = underlying.map { "\($0)" }
    }
}

/// The budget state the server reported on a response.
public struct RateLimitState: Sendable, Equatable {
    /// Requests per minute of the budget that applies.
    public var limit: Int
    /// Requests that would be admitted right now.
    public var remaining: Int
    /// When the budget is full again.
    public var reset: Date
}

enum ErrorMapping {
    /// Codes of 429s that are never retried automatically: a spent quota or credit balance.
    static let spentAllowanceCodes: Set<String> = ["QUOTA_EXCEEDED", "CREDITS_EXHAUSTED"]

    /// Whether an error body names a spent quota or credit balance.
    static func isSpentAllowance(_ body: Data) -> Bool {
        guard let decoded = try? JSONDecoder().decode(ErrorBody.self, from: body) else { return false }
        return spentAllowanceCodes.contains(decoded.error.code)
    }

    static func error(status: Int, body: Data, rateLimit: RateLimitState?, retryAfter: Int?) -> any AITBCError {
        let decoded = try? JSONDecoder().decode(ErrorBody.self, from: body)
        let info = ServerErrorInfo(
            status: status, code: decoded?.error.code ?? "HTTP_\(status)",
            message: decoded?.error.message ?? "The server answered \(status)", details: decoded?.error.details ?? [:],
            rateLimit: rateLimit)
        switch status {
        case 401: return AuthenticationError(info: info)
        case 403: return PermissionError(info: info)
        case 404, 405: return NotFoundError(info: info)
        case 409, 425: return ConflictError(info: info)
        case 429: return RateLimitError(info: info, retryAfter: max(1, retryAfter ?? 1))
        case 400..<500: return ValidationError(info: info)
        default: return ServerError(info: info)
        }
    }
}

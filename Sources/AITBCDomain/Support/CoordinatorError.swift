import AITBCWire

/// The one error the domain throws; the server maps its `kind` to an HTTP status in one place.
public struct CoordinatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in terms the HTTP layer turns into a status code.
    public enum Kind: Sendable, Equatable {
        case invalidRequest
        case unauthorized
        case forbidden
        case notFound
        /// The path exists but not for this method; `allowed` are the methods it takes (`Allow`).
        case methodNotAllowed(allowed: [String])
        case conflict
        case payloadTooLarge
        case notReady
        case rateLimited(retryAfterSeconds: Int)
        case unavailable
        case internalError
    }

    public var kind: Kind
    public var code: ErrorCode
    public var message: String
    public var details: [String: JSONValue]
    /// The request budget that refused, when a budget did: its state goes with the answer (`X-RateLimit-*`).
    public var budget: RateDecision?
    /// The tightest quota the request was counted against, when one applies (`X-Quota-*`).
    public var quota: QuotaState?

    public init(
        _ kind: Kind, code: ErrorCode, message: String, details: [String: JSONValue] = [:], budget: RateDecision? = nil
    ) {
        self.kind = kind
        self.code = code
        self.message = message
        self.details = details
        self.budget = budget
    }

    public var description: String { "\(code.rawValue): \(message)" }

    // MARK: 400

    /// 400 `INVALID_REQUEST`.
    public static func invalidRequest(_ message: String) -> CoordinatorError {
        CoordinatorError(.invalidRequest, code: .invalidRequest, message: message)
    }

    /// 400 `INVALID_REQUEST` naming the offending field.
    public static func invalidField(_ field: String, _ message: String) -> CoordinatorError {
        CoordinatorError(.invalidRequest, code: .invalidRequest, message: message, details: ["field": .string(field)])
    }

    public static let ambiguousCredentials = CoordinatorError(
        .invalidRequest, code: .ambiguousCredentials,
        message: "The request carries more than one different API key; send exactly one")

    // MARK: 401

    public static let missingKey = CoordinatorError(
        .unauthorized, code: .missingAPIKey,
        message: "No API key was sent: use the X-API-Key header, Authorization: Bearer, or ?api_key=")
    public static let invalidKey = CoordinatorError(
        .unauthorized, code: .invalidAPIKey, message: "The provided API key is invalid")
    public static let revokedKey = CoordinatorError(
        .unauthorized, code: .apiKeyRevoked, message: "The provided API key has been revoked")
    public static let expiredKey = CoordinatorError(
        .unauthorized, code: .apiKeyExpired, message: "The provided API key has expired")

    // MARK: 403

    public static let tenantMismatch = CoordinatorError(
        .forbidden, code: .tenantMismatch, message: "X-Tenant-ID does not name this key's tenant")

    /// 403 `INSUFFICIENT_SCOPE` with `message` and `details` (the contract puts what is missing in `missing`).
    public static func insufficientScope(_ message: String, details: [String: JSONValue] = [:]) -> CoordinatorError {
        CoordinatorError(.forbidden, code: .insufficientScope, message: message, details: details)
    }

    /// 403 `INSUFFICIENT_SCOPE` naming the permission that was missing.
    public static func insufficientScope(_ permission: Permission) -> CoordinatorError {
        insufficientScope(
            "This key lacks the permission \(permission.rawValue)",
            details: ["required": .string(permission.rawValue), "missing": .array([.string(permission.rawValue)])])
    }

    /// 403 `INSUFFICIENT_SCOPE` for a key-management call made with a superseded secret.
    public static let supersededSecret = insufficientScope(
        "This secret was replaced by a regeneration and stays valid only for the key's ordinary work; "
            + "use the new secret to manage keys",
        details: ["missing": .array(Permission.management.sorted().map { .string($0.rawValue) }), "superseded_secret": .bool(true)])

    // MARK: 404, 405

    /// 404 with a kind-specific code such as `KEY_NOT_FOUND`.
    public static func notFound(_ code: ErrorCode, _ message: String) -> CoordinatorError {
        CoordinatorError(.notFound, code: code, message: message)
    }

    /// 405 `METHOD_NOT_ALLOWED`; `allowed` travels with it to the `Allow` header.
    public static func methodNotAllowed(_ method: String, allowed: [String]) -> CoordinatorError {
        CoordinatorError(
            .methodNotAllowed(allowed: allowed), code: .methodNotAllowed,
            message: allowed.isEmpty
                ? "This path does not accept this method"
                : "\(method) is not allowed here; use \(allowed.joined(separator: ", "))")
    }

    // MARK: 409, 413

    /// 409 `CONFLICT_STATE`: the thing is not in a state that allows the call.
    public static func conflictState(_ message: String, details: [String: JSONValue] = [:]) -> CoordinatorError {
        CoordinatorError(.conflict, code: .conflictState, message: message, details: details)
    }

    /// 413 `PAYLOAD_TOO_LARGE`.
    public static func payloadTooLarge(
        _ message: String = "The request body is larger than the server accepts", details: [String: JSONValue] = [:]
    ) -> CoordinatorError {
        CoordinatorError(.payloadTooLarge, code: .payloadTooLarge, message: message, details: details)
    }

    // MARK: 429

    /// 429 `RATE_LIMIT_EXCEEDED`: retry in `retryAfter` seconds (`Retry-After`).
    public static func rateLimited(
        retryAfter: Int, _ message: String, details: [String: JSONValue] = [:], budget: RateDecision? = nil
    ) -> CoordinatorError {
        CoordinatorError(
            .rateLimited(retryAfterSeconds: retryAfter), code: .rateLimitExceeded, message: message, details: details,
            budget: budget)
    }

    /// 429 `RATE_LIMIT_EXCEEDED` of a request budget that refused: the budget's state goes with it.
    public static func overBudget(_ decision: RateDecision) -> CoordinatorError {
        rateLimited(
            retryAfter: decision.retryAfterSeconds,
            "Rate limit of \(decision.limit) requests per minute exceeded; retry in \(decision.retryAfterSeconds) s",
            details: ["limit": .int(decision.limit), "retry_after_seconds": .int(decision.retryAfterSeconds)],
            budget: decision)
    }

    // MARK: 500, 503

    /// 500 `INTERNAL_ERROR`, saying nothing of what failed.
    public static let internalError = CoordinatorError(
        .internalError, code: .internalError, message: "An internal error occurred")

    /// 503 `STORAGE_UNAVAILABLE`.
    public static let storageUnavailable = CoordinatorError(
        .unavailable, code: .storageUnavailable, message: "The storage backend is unavailable; retry shortly")

    /// 503 `DRAINING`: the server is shutting down.
    public static let draining = CoordinatorError(.unavailable, code: .draining, message: "The server is shutting down")
}

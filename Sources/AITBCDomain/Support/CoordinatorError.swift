import AITBCWire

/// The one error the domain throws; the server maps its `kind` to an HTTP status in one place.
public struct CoordinatorError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, in terms the HTTP layer turns into a status code.
    public enum Kind: Sendable, Equatable {
        case invalidRequest
        case unauthorized
        case forbidden
        case notFound
        case methodNotAllowed
        case conflict
        case payloadTooLarge
        case notReady
        case rateLimited(retryAfterSeconds: Int)
        case unavailable
        case internalError
    }

    public var kind: Kind
    public var code: String
    public var message: String
    public var details: [String: JSONValue]

    public init(_ kind: Kind, code: String, message: String, details: [String: JSONValue] = [:]) {
        self.kind = kind
        self.code = code
        self.message = message
        self.details = details
    }

    public var description: String { "\(code): \(message)" }

    /// 400 `INVALID_REQUEST` naming the offending field.
    public static func invalidField(_ field: String, _ message: String) -> CoordinatorError {
        CoordinatorError(.invalidRequest, code: "INVALID_REQUEST", message: message, details: ["field": .string(field)])
    }

    public static let missingKey = CoordinatorError(
        .unauthorized, code: "MISSING_API_KEY",
        message: "No API key was sent: use the X-API-Key header, Authorization: Bearer, or ?api_key=")
    public static let invalidKey = CoordinatorError(
        .unauthorized, code: "INVALID_API_KEY", message: "The provided API key is invalid")
    public static let revokedKey = CoordinatorError(
        .unauthorized, code: "API_KEY_REVOKED", message: "The provided API key has been revoked")
    public static let expiredKey = CoordinatorError(
        .unauthorized, code: "API_KEY_EXPIRED", message: "The provided API key has expired")
    public static let ambiguousCredentials = CoordinatorError(
        .invalidRequest, code: "AMBIGUOUS_CREDENTIALS",
        message: "The request carries more than one different API key; send exactly one")
    public static let tenantMismatch = CoordinatorError(
        .forbidden, code: "TENANT_MISMATCH", message: "X-Tenant-ID does not name this key's tenant")

    /// 403 `INSUFFICIENT_SCOPE` naming the permission that was missing.
    public static func insufficientScope(_ permission: Permission) -> CoordinatorError {
        CoordinatorError(
            .forbidden, code: "INSUFFICIENT_SCOPE",
            message: "This key lacks the permission \(permission.rawValue)",
            details: ["required": .string(permission.rawValue), "missing": .array([.string(permission.rawValue)])])
    }

    /// 403 `INSUFFICIENT_SCOPE` for a key-management call made with a superseded secret.
    public static let supersededSecret = CoordinatorError(
        .forbidden, code: "INSUFFICIENT_SCOPE",
        message: "This secret was replaced by a regeneration and stays valid only for the key's ordinary work; "
            + "use the new secret to manage keys",
        details: ["missing": .array(Permission.management.sorted().map { .string($0.rawValue) }), "superseded_secret": .bool(true)])

    /// 404 with a kind-specific code such as `KEY_NOT_FOUND`.
    public static func notFound(_ code: String, _ message: String) -> CoordinatorError {
        CoordinatorError(.notFound, code: code, message: message)
    }

    /// 503 `STORAGE_UNAVAILABLE`.
    public static let storageUnavailable = CoordinatorError(
        .unavailable, code: "STORAGE_UNAVAILABLE", message: "The storage backend is unavailable; retry shortly")
}

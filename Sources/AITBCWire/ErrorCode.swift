/// Every `error.code` the API answers with, spelled once: the server throws these, the SDK reads them.
///
/// A newer server may answer a code this list does not know yet; readers keep the raw string too
/// (``ErrorDetail/code``) and treat an unknown code by its HTTP status.
public enum ErrorCode: String, Sendable, Hashable, CaseIterable, Codable {
    // 400
    case invalidRequest = "INVALID_REQUEST"
    case ambiguousCredentials = "AMBIGUOUS_CREDENTIALS"
    // 401
    case missingAPIKey = "MISSING_API_KEY"
    case invalidAPIKey = "INVALID_API_KEY"
    case apiKeyRevoked = "API_KEY_REVOKED"
    case apiKeyExpired = "API_KEY_EXPIRED"
    /// The dashboard's sign-in: the email or password is not right.
    case invalidCredentials = "INVALID_CREDENTIALS"
    // 403
    case insufficientScope = "INSUFFICIENT_SCOPE"
    case tenantMismatch = "TENANT_MISMATCH"
    case minerNotOwned = "MINER_NOT_OWNED"
    case ipNotAllowed = "IP_NOT_ALLOWED"
    // 404
    case notFound = "NOT_FOUND"
    case jobNotFound = "JOB_NOT_FOUND"
    case keyNotFound = "KEY_NOT_FOUND"
    case tenantNotFound = "TENANT_NOT_FOUND"
    case minerNotFound = "MINER_NOT_FOUND"
    // 405
    case methodNotAllowed = "METHOD_NOT_ALLOWED"
    // 409
    case conflictState = "CONFLICT_STATE"
    case idempotencyConflict = "IDEMPOTENCY_CONFLICT"
    case lastMasterKey = "LAST_MASTER_KEY"
    // 413
    case payloadTooLarge = "PAYLOAD_TOO_LARGE"
    // 425
    case jobNotReady = "JOB_NOT_READY"
    // 429
    case rateLimitExceeded = "RATE_LIMIT_EXCEEDED"
    case quotaExceeded = "QUOTA_EXCEEDED"
    case creditsExhausted = "CREDITS_EXHAUSTED"
    case jobQuotaExceeded = "JOB_QUOTA_EXCEEDED"
    // 500, 503
    case internalError = "INTERNAL_ERROR"
    case storageUnavailable = "STORAGE_UNAVAILABLE"
    case draining = "DRAINING"
    /// Never on the wire: the SDK's code for a call that got no usable response.
    case transportError = "TRANSPORT_ERROR"
}

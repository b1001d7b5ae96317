/// The one error shape every route answers with: `{"error": {"code", "message", "details"}}`.
public struct ErrorBody: Codable, Sendable, Equatable {
    /// The error itself.
    public var error: ErrorDetail

    public init(code: String, message: String, details: [String: JSONValue] = [:]) {
        self.error = ErrorDetail(code: code, message: message, details: details)
    }
}

/// The inside of ``ErrorBody``.
public struct ErrorDetail: Codable, Sendable, Equatable {
    /// A stable machine-readable code such as `INVALID_API_KEY`.
    public var code: String
    /// A sentence for people; never contains a secret.
    public var message: String
    /// Structured context, e.g. `{"field": "role"}` for a validation error.
    public var details: [String: JSONValue]

    public init(code: String, message: String, details: [String: JSONValue] = [:]) {
        self.code = code
        self.message = message
        self.details = details
    }
}

extension ErrorBody {
    /// The body of an error with a known `code`.
    public init(code: ErrorCode, message: String, details: [String: JSONValue] = [:]) {
        self.init(code: code.rawValue, message: message, details: details)
    }
}

import Foundation
import Testing

@testable import AITBC

/// The SDK reads a known error code as an ``ErrorCode`` and keeps an unknown one (a newer server's) as
/// text, typed by its status.
@Suite struct SDKErrorCodeTests {
    static func body(_ code: String) -> Data {
        Data(#"{"error": {"code": "\#(code)", "message": "m", "details": {}}}"#.utf8)
    }

    @Test func aKnownCodeIsAnErrorCode() {
        let error = ErrorMapping.error(status: 401, body: Self.body("API_KEY_REVOKED"), rateLimit: nil, retryAfter: nil)
        #expect(error is AuthenticationError)
        #expect(error.errorCode == .apiKeyRevoked)
        #expect(error.code == "API_KEY_REVOKED")
    }

    @Test func anUnknownCodeKeepsItsTextAndIsTypedByItsStatus() {
        let error = ErrorMapping.error(status: 403, body: Self.body("SOMETHING_NEWER"), rateLimit: nil, retryAfter: nil)
        #expect(error is PermissionError)
        #expect(error.code == "SOMETHING_NEWER")
        #expect(error.errorCode == nil)
    }

    @Test func aCallThatGotNoAnswerHasTheTransportCode() {
        #expect(TransportError(message: "refused").errorCode == .transportError)
    }
}

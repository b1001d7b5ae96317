import Foundation
import Testing

import AITBCWire

/// The error codes are one list: each spelled once, in the contract's form, and read back as sent.
@Suite struct ErrorCodeTests {
    @Test func everyCodeIsSpelledOnceInUpperSnakeCase() {
        let raw = ErrorCode.allCases.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        for code in raw {
            #expect(code.allSatisfy { $0.isUppercase || $0 == "_" }, "\(code)")
        }
    }

    @Test func anErrorBodyCarriesTheCodeAsText() throws {
        let body = ErrorBody(code: .tenantMismatch, message: "m")
        let decoded = try JSONDecoder().decode(ErrorBody.self, from: JSONEncoder().encode(body))
        #expect(decoded.error.code == "TENANT_MISMATCH")
        #expect(ErrorCode(rawValue: decoded.error.code) == .tenantMismatch)
    }
}

import Foundation
import Hummingbird

/// The fields of the dashboard's forms; every one is optional so a tampered form gets a page, not a crash.
struct SignUpForm: Decodable {
    var email: String?
    var password: String?
    var csrf_token: String?
}

struct NewKeyForm: Decodable {
    var name: String?
    var role: String?
    var expires_in_days: String?
    /// CIDRs or addresses separated by commas, spaces or lines; empty: the signed-in key's own list (none).
    var allowed_ips: String?
    var csrf_token: String?
}

struct RegenerateForm: Decodable {
    var grace_period_seconds: String?
    var csrf_token: String?
}

/// A form that carries only its cross-site request forgery token.
struct TokenForm: Decodable {
    var csrf_token: String?
}

extension Request {
    /// The `application/x-www-form-urlencoded` body as `Form`; a body that is not such a form reads as empty.
    func form<Form: Decodable>(_ type: Form.Type, context: some RequestContext) async throws -> Form {
        let buffer = try await body.collect(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        if let form = try? URLEncodedFormDecoder().decode(Form.self, from: text) { return form }
        return try URLEncodedFormDecoder().decode(Form.self, from: "")
    }
}

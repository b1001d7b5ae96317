import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore

/// A browser for the dashboard over HummingbirdTesting: keeps cookies, posts forms, reads pages.
final class DashboardBrowser {
    let client: any TestClientProtocol
    /// The address sent as `X-Forwarded-For` (the harness trusts it).
    var address: String
    private(set) var cookies: [String: String] = [:]
    /// Every `Set-Cookie` line seen, for checking attributes.
    private(set) var setCookieLines: [String] = []
    private(set) var lastPage = ""

    init(_ client: any TestClientProtocol, address: String = "203.0.113.10") {
        self.client = client
        self.address = address
    }

    @discardableResult
    func get(_ path: String, headers extra: [String: String] = [:]) async throws -> Reply {
        try await send(.get, path, body: nil, headers: extra)
    }

    /// Posts `fields` as a form; `csrf: true` adds the token of the last page that had one.
    @discardableResult
    func post(
        _ path: String, _ fields: [String: String] = [:], csrf: Bool = true, headers extra: [String: String] = [:]
    ) async throws -> Reply {
        var fields = fields
        if csrf, fields["csrf_token"] == nil, let token = formToken { fields["csrf_token"] = token }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { key, value in
            "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)"
        }.joined(separator: "&")
        var headers = extra
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        return try await send(.post, path, body: body, headers: headers)
    }

    /// The `csrf_token` of the last page that carried one.
    var formToken: String? { Self.first(#"name="csrf_token" value="([^"]+)""#, in: lastPage) }

    /// The secret shown on a "copy this secret now" page.
    var shownSecret: String? { Self.first(#"id="secret" type="text" readonly value="([^"]+)""#, in: lastPage) }

    /// The key id shown beside a secret.
    var shownKeyID: String? { Self.first(#"\(\w+, <code>(key_[A-Za-z0-9]+)</code>\)"#, in: lastPage) }

    func forget(_ cookie: String) { cookies[cookie] = nil }
    func setCookie(_ name: String, _ value: String) { cookies[name] = value }

    /// Signs up with `email` (from the sign-up page) and returns the master key shown once.
    @discardableResult
    func signUp(_ email: String, password: String = "correct horse battery staple") async throws -> Reply {
        try await get("/dashboard/sign-up")
        return try await post("/dashboard/sign-up", ["email": email, "password": password])
    }

    func signIn(_ email: String, password: String = "correct horse battery staple") async throws -> Reply {
        try await get("/dashboard/sign-in")
        return try await post("/dashboard/sign-in", ["email": email, "password": password])
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?, headers extra: [String: String])
        async throws -> Reply
    {
        var headers = HTTPFields()
        headers[HTTPField.Name("X-Forwarded-For")!] = address
        if !cookies.isEmpty {
            headers[.cookie] = cookies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
        }
        for (name, value) in extra { headers[HTTPField.Name(name)!] = value }
        let reply = try await client.execute(
            uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
        for line in reply.headers[values: .setCookie] {
            setCookieLines.append(line)
            let pair = line.split(separator: ";", maxSplits: 1).first ?? ""
            guard let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals]), value = String(pair[pair.index(after: equals)...])
            if line.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
        }
        if reply.headers[.contentType]?.hasPrefix("text/html") == true { lastPage = reply.text }
        return reply
    }

    static func first(_ pattern: String, in text: String) -> String? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
            let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
            let range = Range(match.range(at: 1), in: text)
        else { return nil }
        return String(text[range])
    }
}

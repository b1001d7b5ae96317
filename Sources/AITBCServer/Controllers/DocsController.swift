import AITBCWire
import Foundation
import Hummingbird
import NIOCore

/// `GET /openapi.json` and `GET /docs` (a readable page rendered from the same document, no scripts).
struct DocsController {
    static let documentJSON: ByteBuffer = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return ByteBuffer(data: (try? encoder.encode(OpenAPIDocument.document)) ?? Data("{}".utf8))
    }()

    static let page: ByteBuffer = ByteBuffer(string: renderPage())

    func addRoutes(to router: Router<CoordinatorRequestContext>) {
        router.on("/openapi.json", method: .get) { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: Self.documentJSON))
        }
        router.on("/docs", method: .get) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "public, max-age=300"],
                body: ResponseBody(byteBuffer: Self.page))
        }
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func renderPage() -> String {
        let document = OpenAPIDocument.document
        var rows = ""
        for (path, item) in (document["paths"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            for (method, operation) in (item.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let summary = operation["summary"]?.stringValue ?? ""
                let isPublic = operation["security"] == .array([])
                let body = operation["requestBody"]?["content"]?["application/json"]?["schema"]?["$ref"]?.stringValue?
                    .split(separator: "/").last.map(String.init) ?? ""
                let responses = (operation["responses"]?.objectValue ?? [:]).keys.filter { $0 != "default" }.sorted()
                rows += "<tr><td><code>\(method.uppercased())</code></td><td><code>\(escape(path))</code></td>"
                    + "<td>\(escape(summary))</td><td>\(escape(body))</td><td>\(responses.joined(separator: ", "))</td>"
                    + "<td>\(isPublic ? "public" : "API key")</td></tr>\n"
            }
        }
        var schemas = ""
        for (name, schema) in (document["components"]?["schemas"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
            let fields = (schema["properties"]?.objectValue ?? [:]).keys.sorted().map { "<code>\(escape($0))</code>" }
            schemas += "<dt>\(escape(name))</dt><dd>\(fields.joined(separator: " "))</dd>\n"
        }
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>AITBC Coordinator API</title>
            <style>
            body{font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1rem;color:#1a1a1a}
            table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
            code{background:#f3f3f3;padding:0 .2rem;border-radius:3px}dt{font-weight:600;margin-top:.5rem}
            </style></head><body>
            <h1>AITBC Coordinator API</h1>
            <p>\(escape(document["info"]?["description"]?.stringValue ?? ""))</p>
            <p>Send the key as <code>X-API-Key: &lt;key&gt;</code>, <code>Authorization: Bearer &lt;key&gt;</code> or
            <code>?api_key=&lt;key&gt;</code>. Authenticated responses carry <code>X-RateLimit-Limit</code>,
            <code>X-RateLimit-Remaining</code> and <code>X-RateLimit-Reset</code>; a 429 carries <code>Retry-After</code>.
            The machine-readable document is <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
            <h2>Routes</h2>
            <table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Body</th><th>Success</th><th>Auth</th></tr></thead><tbody>
            \(rows)</tbody></table>
            <h2>Errors</h2>
            <p>Every error: <code>{"error": {"code": "\(ErrorCode.invalidAPIKey.rawValue)", "message": "…", "details": {}}}</code>.</p>
            <h2>Schemas</h2><dl>
            \(schemas)</dl></body></html>
            """
    }
}

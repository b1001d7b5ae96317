import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import Mustache

/// Renders dashboard pages and builds their responses, with the headers every page carries.
struct DashboardPages: Sendable {
    let library: MustacheLibrary

    init() throws {
        library = try DashboardTemplates.library()
    }

    /// Pages may load only the dashboard's own stylesheet and script; forms post only here; no framing.
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'"

    /// `template` rendered over `data` (plus what the layout needs) as a response that no cache keeps.
    func page(
        _ template: String, title: String, data: [String: Any], signedIn: SignedIn? = nil,
        status: HTTPResponse.Status = .ok, cookies: [Cookie] = [], extraHeaders: HTTPFields = [:]
    ) -> Response {
        var data = data
        data["title"] = title
        data["assetVersion"] = DashboardAsset.version
        if let signedIn {
            var account: [String: Any] = ["email": signedIn.account.email, "csrf": signedIn.session.csrfToken]
            if template == "api-keys" || template == "key" || template == "revoke" || template == "secret" {
                account["onKeys"] = true
            }
            if template == "usage" { account["onUsage"] = true }
            if template.hasPrefix("webhook") { account["onWebhooks"] = true }
            data["account"] = account
            data["csrf"] = signedIn.session.csrfToken
        }
        let html = library.render(data, withTemplate: template) ?? ""
        var headers = Self.pageHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        for field in extraHeaders { headers.append(field) }
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    static let pageHeaders: HTTPFields = [
        .cacheControl: "no-store",
        HTTPField.Name("Content-Security-Policy")!: contentSecurityPolicy,
        HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        HTTPField.Name("X-Frame-Options")!: "DENY",
        HTTPField.Name("Referrer-Policy")!: "same-origin",
    ]

    /// 303 See Other to `location` (after a form post, so reloading does not post again).
    static func redirect(_ location: String, cookies: [Cookie] = []) -> Response {
        var headers = pageHeaders
        headers[.location] = location
        var response = Response(status: .seeOther, headers: headers)
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// A page that says one thing and links on.
    func message(
        heading: String, text: String, link: (url: String, label: String), status: HTTPResponse.Status,
        signedIn: SignedIn? = nil, headers: HTTPFields = [:]
    ) -> Response {
        page(
            "message", title: heading,
            data: ["heading": heading, "text": text, "linkURL": link.url, "linkLabel": link.label],
            signedIn: signedIn, status: status, extraHeaders: headers)
    }

    // MARK: view models

    /// The data of one labelled input (see the `field` template).
    static func field(
        _ name: String, label: String, type: String, value: String = "", error: String? = nil, hint: String? = nil,
        autocomplete: String, minimumLength: Int? = nil
    ) -> [String: Any] {
        var field: [String: Any] = [
            "name": name, "label": label, "type": type, "value": value, "autocomplete": autocomplete,
        ]
        if let error { field["error"] = error }
        if let hint { field["hint"] = hint }
        if let minimumLength { field["minlength"] = minimumLength }
        return field
    }

    static func keyRow(_ record: APIKeyRecord, now: Date) -> [String: Any] {
        var row: [String: Any] = [
            "id": record.id, "name": record.name, "role": record.role.rawValue, "hint": record.hint,
            "status": record.status(at: now), "createdAt": RFC3339.string(from: record.createdAt),
            "createdText": readable(record.createdAt),
            "lastUsedText": record.lastUsedAt.map(readable) ?? "Never",
            "expiresText": record.expiresAt.map(readable) ?? "Never",
        ]
        if let from = record.lastUsedFrom { row["lastUsedFrom"] = from }
        if let until = record.previousValidUntil, until > now { row["graceText"] = readable(until) }
        if record.status(at: now) == "active" { row["active"] = true }
        if let allowedIPs = record.allowedIPs { row["allowedIPs"] = allowedIPs.entries }
        return row
    }

    static func chart(_ chart: UsageChart, title: String) -> [String: Any] {
        [
            "svg": chart.svg(title: title), "admitted": chart.totals.admitted,
            "rateLimited": chart.totals.rateLimited, "errors": chart.totals.errors,
            "hours": chart.hours.map {
                [
                    "label": $0.label, "admitted": $0.counts.admitted, "rateLimited": $0.counts.rateLimited,
                    "errors": $0.counts.errors,
                ] as [String: Any]
            },
        ]
    }

    /// "2026-11-23 14:05 UTC".
    static func readable(_ date: Date) -> String {
        let text = RFC3339.string(from: date)
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }
}

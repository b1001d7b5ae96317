import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /v1/usage`: usage reports per hour or day, as JSON or, by `Accept: text/csv`, as CSV.
struct UsageController {
    let reports: UsageReportService

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("usage", method: .get) { request, context in
            let parameters = request.uri.queryParameters
            func text(_ name: String) -> String? { parameters[Substring(name)].map(String.init) }
            let report = try await reports.report(
                UsageReportRequest(
                    from: text("from"), to: text("to"), granularity: text("granularity"), groupBy: text("group_by"),
                    tenantID: text("tenant_id"), limit: text("limit"), cursor: text("cursor")),
                by: context.principal)
            guard Self.wantsCSV(request.headers[values: .accept].joined(separator: ",")) else {
                return JSONResponse.make(report.page)
            }
            return Self.csvResponse(report, limit: text("limit"))
        }
    }

    /// Whether `accept` prefers `text/csv` to JSON: CSV must be listed with a weight above zero and
    /// at least that of an explicit `application/json`. Anything else (absent, `*/*`, unknown) is JSON.
    static func wantsCSV(_ accept: String) -> Bool {
        var csv = 0.0, json = 0.0
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let type = parts.first else { continue }
            let weight = parts.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            if type == "text/csv" { csv = max(csv, weight) }
            if type == "application/json" { json = max(json, weight) }
        }
        return csv > 0 && csv >= json
    }

    /// The page as CSV; the next page's cursor goes in `X-Next-Cursor` and a `Link: <…>; rel="next"`
    /// naming the same report.
    static func csvResponse(_ report: UsageReport, limit: String?) -> Response {
        let query = report.query
        var headers: HTTPFields = [
            .contentType: "text/csv; charset=utf-8",
            .contentDisposition: "attachment; filename=\"\(report.csvFileName)\"",
        ]
        if let cursor = report.nextCursor {
            headers[HTTPField.Name("X-Next-Cursor")!] = cursor
            let page = report.page
            var items = [
                ("from", RFC3339.string(from: page.from)), ("to", RFC3339.string(from: page.to)),
                ("granularity", page.granularity),
            ]
            if query.byKey { items.append(("group_by", "key")) }
            if let tenant = query.tenantID { items.append(("tenant_id", tenant)) }
            if let limit { items.append(("limit", limit)) }
            items.append(("cursor", cursor))
            let encoded = items.map { "\($0.0)=\(percentEncoded($0.1))" }.joined(separator: "&")
            headers[HTTPField.Name("Link")!] = "</v1/usage?\(encoded)>; rel=\"next\""
        }
        let body = UsageReportCSV.render(report.rowViews, byKey: query.byKey)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// `value` as a query parameter's value: every byte but RFC 3986's unreserved characters escaped.
    static func percentEncoded(_ value: String) -> String {
        value.addingPercentEncoding(withAllowedCharacters: unreserved) ?? value
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}

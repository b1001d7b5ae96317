import AITBCDomain
import AITBCWire
import HTTPTypes
import Hummingbird
import NIOCore

extension DashboardController {
    /// Most pages of 1,000 rows one download gathers (a 30-day report by key of 3,000 keys).
    static var usageExportPageLimit: Int { 90 }

    /// Adds `GET /dashboard/usage.csv?granularity=day|hour`: the signed-in tenant's usage report per
    /// key and bucket as CSV (the API's `GET /v1/usage` with the default range), charged to the
    /// tenant's budget like the other pages.
    public func addUsageExport(to router: Router<Context>, reports: UsageReportService) {
        router.on("/dashboard/usage.csv", method: .get) { request, _ in try await usageCSV(request, reports: reports) }
    }

    func usageCSV(_ request: Request, reports: UsageReportService) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        let granularity = request.uri.queryParameters["granularity"] == "hour" ? "hour" : "day"
        var text = UsageReportCSV.line(UsageReportCSV.columns(byKey: true))
        var cursor: String?
        var fileName = "usage.csv"
        for _ in 0..<Self.usageExportPageLimit {
            let report = try await reports.report(
                UsageReportRequest(granularity: granularity, groupBy: "key", limit: "1000", cursor: cursor),
                by: signedIn.principal)
            if cursor == nil { fileName = report.csvFileName }
            for row in report.rowViews {
                text += UsageReportCSV.line(
                    [RFC3339.string(from: row.start), RFC3339.string(from: row.end), row.tenantID, row.keyID ?? "",
                     String(row.admitted), String(row.rateLimited), String(row.errors)])
            }
            cursor = report.nextCursor
            if cursor == nil { break }
        }
        return Response(
            status: .ok,
            headers: [
                .contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(fileName)\"",
                .cacheControl: "no-store",
            ],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}

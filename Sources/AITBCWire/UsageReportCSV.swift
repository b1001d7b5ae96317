import Foundation

/// The CSV form of a usage report (RFC 4180: CRLF line ends, fields with a comma, quote or line
/// break quoted, quotes doubled): a header line, then one line per row. `key_id` is a column only
/// when the report is grouped by key.
public enum UsageReportCSV {
    /// The header's columns.
    public static func columns(byKey: Bool) -> [String] {
        byKey
            ? ["start", "end", "tenant_id", "key_id", "admitted", "rate_limited", "errors"]
            : ["start", "end", "tenant_id", "admitted", "rate_limited", "errors"]
    }

    /// The header line and `rows`, each line ending in CRLF.
    public static func render(_ rows: [UsageReportRowView], byKey: Bool) -> String {
        var text = line(columns(byKey: byKey))
        for row in rows {
            var fields = [RFC3339.string(from: row.start), RFC3339.string(from: row.end), row.tenantID]
            if byKey { fields.append(row.keyID ?? "") }
            fields += [String(row.admitted), String(row.rateLimited), String(row.errors)]
            text += line(fields)
        }
        return text
    }

    /// One CSV line of `fields`, quoted where RFC 4180 needs it.
    public static func line(_ fields: [String]) -> String {
        fields.map(quoted).joined(separator: ",") + "\r\n"
    }

    /// `field` as RFC 4180 writes it.
    public static func quoted(_ field: String) -> String {
        guard field.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else {
            return field
        }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

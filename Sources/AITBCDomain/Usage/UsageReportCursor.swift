import AITBCWire
import Foundation

/// The opaque `cursor` of a usage report: the query it continues (granularity, range, scope,
/// grouping) and the last row's position. It is checked, not trusted: a cursor must continue the
/// query it is sent with, and its position must lie in that query's range; the tenants a report may
/// show come from the caller, never from the cursor.
public struct UsageReportCursor: Sendable, Equatable, Codable {
    public var granularity: UsageGranularity
    public var from: Int64
    public var to: Int64
    /// The tenant the report was scoped to, or nil for every tenant.
    public var tenantID: String?
    public var byKey: Bool
    public var position: UsageReportPosition

    enum CodingKeys: String, CodingKey {
        case granularity = "g", from = "f", to = "t", tenantID = "s", byKey = "k", position = "p"
    }

    public init(query: UsageReportQuery, position: UsageReportPosition) {
        self.granularity = query.granularity
        self.from = query.from
        self.to = query.to
        self.tenantID = query.tenantID
        self.byKey = query.byKey
        self.position = position
    }

    /// The form clients pass back as `?cursor=`: unpadded base64url of compact JSON.
    public var token: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let data = (try? encoder.encode(self)) ?? Data()
        return Base64URL.encode(data)
    }

    /// Reads a token made by ``token``, or nil for anything else (wrong shape, a position outside
    /// its range or off a bucket boundary, an id no store could hold).
    public init?(token: String) {
        guard token.utf8.count <= 1024, let bytes = Base64URL.decode(token),
            let cursor = try? JSONDecoder().decode(UsageReportCursor.self, from: Data(bytes))
        else { return nil }
        let size = cursor.granularity.seconds
        let position = cursor.position
        // Within years 0 … 9999 before any arithmetic: a forged number cannot overflow it.
        guard cursor.from.magnitude < 253_402_300_800, cursor.to.magnitude < 253_402_300_800,
            cursor.from % size == 0, cursor.to % size == 0, cursor.from < cursor.to,
            cursor.to - cursor.from <= cursor.granularity.maximumRangeSeconds + 2 * size,
            position.bucket % size == 0, position.bucket >= cursor.from, position.bucket < cursor.to,
            (position.keyID != nil) == cursor.byKey,
            ([position.tenantID, position.keyID, cursor.tenantID].allSatisfy { $0.map(Self.isPlausibleID) ?? true })
        else { return nil }
        self = cursor
    }

    /// Whether this cursor continues `query` (the same granularity, range, scope and grouping).
    public func continues(_ query: UsageReportQuery) -> Bool {
        granularity == query.granularity && from == query.from && to == query.to && tenantID == query.tenantID
            && byKey == query.byKey
    }

    static func isPlausibleID(_ id: String) -> Bool {
        !id.isEmpty && id.utf8.count <= 128 && !id.unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}

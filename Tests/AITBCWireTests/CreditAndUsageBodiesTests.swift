import Foundation
import Testing

import AITBCWire

/// The exact JSON of the credit and usage-report bodies (the server writes them with
/// ``RFC3339/makeEncoder()``, the SDK reads them with ``RFC3339/makeDecoder()``), and that each
/// reads back as it was written.
@Suite struct CreditAndUsageBodiesTests {
    static let start = Date(timeIntervalSince1970: 1_764_547_200)  // 2025-12-01T00:00:00Z
    static let end = Date(timeIntervalSince1970: 1_764_550_800)

    static func json(_ value: some Encodable) throws -> String {
        String(decoding: try RFC3339.makeEncoder().encode(value), as: UTF8.self)
    }

    static func roundTrip<Body: Codable & Equatable>(_ body: Body) throws -> Body {
        try RFC3339.makeDecoder().decode(Body.self, from: RFC3339.makeEncoder().encode(body))
    }

    @Test func aCreditsRequestWritesOnlyWhatItChangesAndNullStopsTheRefill() throws {
        let cases: [(CreditsRequest, String)] = [
            (CreditsRequest(remaining: 5), #"{"remaining":5}"#),
            (CreditsRequest(remaining: 5, refill: .some(nil)), #"{"refill":null,"remaining":5}"#),
            (
                CreditsRequest(remaining: 5, refill: .some(CreditRefillBody(amount: 9, interval: "daily"))),
                #"{"refill":{"amount":9,"interval":"daily"},"remaining":5}"#
            ),
            (CreditsRequest(refill: .some(nil)), #"{"refill":null}"#),
            (CreditsRequest(), "{}"),
        ]
        for (request, expected) in cases {
            #expect(try Self.json(request) == expected)
            #expect(try Self.roundTrip(request) == request)
        }
    }

    @Test func aCreditsRequestTellsAnAbsentRefillFromANullOne() throws {
        let decoder = RFC3339.makeDecoder()
        let absent = try decoder.decode(CreditsRequest.self, from: Data(#"{"remaining":1}"#.utf8))
        let null = try decoder.decode(CreditsRequest.self, from: Data(#"{"remaining":1,"refill":null}"#.utf8))
        #expect(absent.refill == nil)
        #expect(null.refill == .some(nil))
        #expect(absent != null)
    }

    @Test func aCreditsViewWritesEveryFieldWithNullsAndRFC3339Dates() throws {
        let metered = CreditsView(remaining: 3, refill: nil, nextRefillAt: nil)
        #expect(try Self.json(metered) == #"{"next_refill_at":null,"refill":null,"remaining":3}"#)
        let refilled = CreditsView(
            remaining: 3, refill: CreditRefillBody(amount: 10, interval: "monthly"), nextRefillAt: Self.start)
        #expect(
            try Self.json(refilled)
                == #"{"next_refill_at":"2025-12-01T00:00:00Z","refill":{"amount":10,"interval":"monthly"},"remaining":3}"#)
        #expect(try Self.roundTrip(metered) == metered)
        #expect(try Self.roundTrip(refilled) == refilled)
    }

    @Test func aUsageReportPageWritesItsRangeCursorAndRowsKeyOnlyWhenGroupedByKey() throws {
        let tenantRow = UsageReportRowView(
            start: Self.start, end: Self.end, tenantID: "acme", keyID: nil, admitted: 4, rateLimited: 1, errors: 0)
        let keyRow = UsageReportRowView(
            start: Self.start, end: Self.end, tenantID: "acme", keyID: "key_1", admitted: 4, rateLimited: 1, errors: 0)
        #expect(
            try Self.json(tenantRow)
                == #"{"admitted":4,"end":"2025-12-01T01:00:00Z","errors":0,"rate_limited":1,"start":"2025-12-01T00:00:00Z","tenant_id":"acme"}"#)
        #expect(try Self.json(keyRow).contains(#""key_id":"key_1","rate_limited":1"#))
        let last = UsageReportPage(items: [tenantRow], nextCursor: nil, from: Self.start, to: Self.end, granularity: "hour")
        #expect(
            try Self.json(last)
                == #"{"from":"2025-12-01T00:00:00Z","granularity":"hour","has_more":false,"items":["#
                + (try Self.json(tenantRow)) + #"],"next_cursor":null,"to":"2025-12-01T01:00:00Z"}"#)
        let more = UsageReportPage(items: [keyRow], nextCursor: "c1", from: Self.start, to: Self.end, granularity: "day")
        #expect(try Self.json(more).contains(#""has_more":true"#) && Self.json(more).contains(#""next_cursor":"c1""#))
        for page in [last, more] { #expect(try Self.roundTrip(page) == page) }
    }
}

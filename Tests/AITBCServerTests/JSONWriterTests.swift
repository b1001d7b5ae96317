import AITBCWire
import Foundation
import NIOCore
import Testing

@testable import AITBCServer

/// The hand-written `/v1/me` encoder writes exactly what the wire encoder writes.
@Suite struct JSONWriterTests {
    @Test func meViewMatchesTheWireEncoderByteForByte() throws {
        for (name, expiry) in [
            ("plain", nil), ("quote \" backslash \\ slash / tab \t newline \n bell \u{7} é 漢字 🚀", Date(timeIntervalSince1970: 1_795_000_000)),
        ] as [(String, Date?)] {
            let view = MeView(
                keyID: "key_abc", name: name, role: "master", scopes: ["jobs:read", "keys:write"], tenantID: "test-tenant",
                plan: "pro", expiresAt: expiry, rateLimit: RateLimitStateView(limit: 600, remaining: 0, reset: -1_795_000_060))
            let fast = String(buffer: view.jsonBuffer())
            #expect(String(buffer: MeView.jsonBuffer(view.staticParts(), rateLimit: view.rateLimit)) == fast)
            let reference = String(decoding: try RFC3339.makeEncoder().encode(view), as: UTF8.self)
            #expect(fast == reference)
            #expect(try RFC3339.makeDecoder().decode(MeView.self, from: Data(fast.utf8)) == view)
        }
    }

    @Test func aMeteredKeysMeViewMatchesTheWireEncoderByteForByte() throws {
        let refills: [CreditsView?] = [
            nil, CreditsView(remaining: 0, refill: nil, nextRefillAt: nil),
            CreditsView(
                remaining: 999_999_999_999, refill: CreditRefillBody(amount: 1000, interval: "monthly"),
                nextRefillAt: Date(timeIntervalSince1970: 1_798_761_600)),
        ]
        let quotas: [QuotaStateView?] = [nil, QuotaStateView(period: "day", limit: 10_000, remaining: 9_998, reset: 1_796_342_400)]
        for credits in refills {
            for quota in quotas {
                for allowed in [nil, ["127.0.0.0/8", "2001:db8::/32"]] as [[String]?] {
                    let view = MeView(
                        keyID: "key_abc", name: "metered", role: "client", scopes: ["jobs:read"], tenantID: "metered",
                        plan: "enterprise", expiresAt: nil, rateLimit: RateLimitStateView(limit: 6000, remaining: 5999, reset: 1_796_300_000),
                        quota: quota, credits: credits, allowedIPs: allowed)
                    let fast = String(buffer: view.jsonBuffer())
                    let reference = String(decoding: try RFC3339.makeEncoder().encode(view), as: UTF8.self)
                    #expect(fast == reference)
                    #expect(try RFC3339.makeDecoder().decode(MeView.self, from: Data(fast.utf8)) == view)
                }
            }
        }
    }

    @Test func errorBodyMatchesTheWireEncoderByteForByte() throws {
        let body = ErrorBody(
            code: "INVALID_REQUEST", message: "name \"x\" is invalid\n",
            details: ["field": "name", "n": 3, "ok": true, "none": nil, "list": [1, "two", ["k": 2.5]], "big": 1e20])
        let fast = String(buffer: body.jsonBuffer())
        let reference = String(decoding: try RFC3339.makeEncoder().encode(body), as: UTF8.self)
        #expect(fast == reference)
        #expect(String(buffer: ErrorBody(code: "X", message: "m").jsonBuffer()) == #"{"error":{"code":"X","details":{},"message":"m"}}"#)
    }

    @Test func numbersAreWrittenAsPythonWritesThemLikeTheResponseEncoder() throws {
        let body = ErrorBody(
            code: "X", message: "m",
            details: ["big": .largeInteger("-12345678901234567890"), "units": 2.0, "zero": -0.0, "huge": 1e16, "tiny": 1e-7])
        let fast = String(buffer: body.jsonBuffer())
        // Python: json.dumps({...}, sort_keys=True, separators=(",", ":")).
        #expect(fast == #"{"error":{"code":"X","details":{"big":-12345678901234567890,"huge":1e+16,"tiny":1e-07,"units":2.0,"zero":-0.0},"message":"m"}}"#)
        let reference = String(decoding: try JSONRawNumbers.shared.encode(body, with: JSONResponse.encoder), as: UTF8.self)
        #expect(fast == reference)
    }
}

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

    /// What the response encoder writes for `value`: the reference the hand-written views must match.
    static func reference(_ value: some Encodable) throws -> String {
        String(decoding: try JSONRawNumbers.shared.encode(value, with: JSONResponse.encoder), as: UTF8.self)
    }

    @Test func jobViewMatchesTheWireEncoderByteForByte() throws {
        let odd = "quote \" backslash \\ slash / tab \t newline \n bell \u{7} del \u{7F} é 漢字 🚀 \u{2028}"
        let dates: [Date?] = [nil, Date(timeIntervalSince1970: 1_795_000_000), Date(timeIntervalSince1970: 1_795_000_000.123456)]
        for text in [nil, "m-1", odd] as [String?] {
            for date in dates {
                let view = JobView(
                    jobID: "job_" + (text ?? "x"), state: text == nil ? "QUEUED" : "FAILED", assignedMinerID: text,
                    requestedAt: Date(timeIntervalSince1970: 1_794_999_999.5), expiresAt: date ?? Date(timeIntervalSince1970: 0),
                    error: text, errorCode: text.map { _ in "MINER_ERROR" }, ttlSeconds: text == nil ? 0 : 86_400,
                    startedAt: date, finishedAt: date)
                let fast = String(buffer: view.jsonBuffer())
                #expect(fast == (try Self.reference(view)))
                #expect(try RFC3339.makeDecoder().decode(JobView.self, from: Data(fast.utf8)).jobID == view.jobID)
            }
        }
    }

    @Test func anAssignedJobMatchesTheWireEncoderByteForByteWithThePayloadsNumbersAsTheyCame() throws {
        let payload: JSONValue = [
            "prompt": "quote \" backslash \\ é 漢字 🚀 \u{1}", "n": 3, "units": 2.0, "zero": -0.0, "huge": 1e16, "tiny": 1e-7,
            "big": .largeInteger("-12345678901234567890"), "none": nil, "flag": false, "list": [1, "two", ["k": 2.5], [], [:]],
            "Zeta": 1, "alpha": ["b": 1, "a": 2, "B": 3, "_": 4, "0": 5, "é": 6, "z": 7, "ü": 8, "漢": 9, "🚀": 10, "ﬀ": 11],
        ]
        for attempt in [nil, 1, 12] as [Int?] {
            for constraints in [[:], ["gpu": "H100", "min_vram_gb": 80, "models": ["llama", "sd"]]] as [[String: JSONValue]] {
                for body in [payload, .string("just text"), .array([]), .null] {
                    let view = AssignedJobView(jobID: "job_abc", payload: body, constraints: constraints, attempt: attempt)
                    #expect(String(buffer: view.jsonBuffer()) == (try Self.reference(view)))
                }
            }
        }
    }
}

import AITBCWire
import Foundation
import Testing

/// The timestamps on the wire are written by hand (no C library call, no `String` on the hot path):
/// they must match what the C library's `gmtime_r` says for every second of every year written.
@Suite struct RFC3339Tests {
    /// The C library's answer, formatted as the wire does.
    static func reference(_ seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour,
            parts.tm_min, parts.tm_sec)
    }

    @Test func matchesTheCLibraryAcrossYearsZeroToNineThousandNineHundredNinetyNine() {
        var generator = SystemRandomNumberGenerator()
        // 0000-01-01T00:00:00Z ... 9999-12-31T23:59:59Z, plus the edges and leap days.
        let first: Int64 = -62_167_219_200
        let last: Int64 = 253_402_300_799
        var samples: [Int64] = [first, last, 0, -1, 86_399, 86_400, 951_782_400, 951_868_799, 4_107_542_399, -2_203_891_200]
        for _ in 0..<20_000 { samples.append(Int64.random(in: first...last, using: &generator)) }
        for seconds in samples {
            let date = Date(timeIntervalSince1970: TimeInterval(seconds))
            let expected = Self.reference(seconds)
            #expect(RFC3339.string(from: date) == expected, "\(seconds)")
            let written = RFC3339.withFixedWidthText(of: date) { String(decoding: $0, as: UTF8.self) }
            #expect(written == expected, "\(seconds)")
        }
    }

    @Test func aFractionOfASecondIsCutNotRounded() {
        let date = Date(timeIntervalSince1970: 1_795_000_000.999)
        #expect(RFC3339.string(from: date) == Self.reference(1_795_000_000))
        #expect(RFC3339.string(from: Date(timeIntervalSince1970: -0.5)) == "1969-12-31T23:59:59Z")
    }

    @Test func aYearBeyondFourDigitsIsStillWrittenWhole() {
        let date = Date(timeIntervalSince1970: 253_402_300_800)  // 10000-01-01T00:00:00Z
        #expect(RFC3339.withFixedWidthText(of: date) { _ in true } == nil)
        #expect(RFC3339.string(from: date) == "10000-01-01T00:00:00Z")
        #expect(RFC3339.date(from: "2026-12-03T20:15:00Z").map(RFC3339.string(from:)) == "2026-12-03T20:15:00Z")
    }
}

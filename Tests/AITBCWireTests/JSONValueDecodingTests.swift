import Foundation
import Testing

@testable import AITBCWire

/// `JSONValue` read by the kind of each value (one pass, nothing tried and thrown away), with the
/// meaning Foundation's `JSONDecoder` gave it; and `JSONValueDecoder` reporting what `JSONDecoder`
/// reports for request bodies.
@Suite struct JSONValueDecodingTests {
    static func parsed(_ text: String) throws -> JSONValue { try JSONValue(parsing: Data(text.utf8)) }

    static func byTrial(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test func eachKindKeepsItsCase() throws {
        #expect(try Self.parsed("null") == .null)
        #expect(try Self.parsed("true") == .bool(true))
        #expect(try Self.parsed("false") == .bool(false))
        // Booleans are not numbers and numbers are not booleans.
        #expect(try Self.parsed("1") == .int(1))
        #expect(try Self.parsed("0") == .int(0))
        #expect(try Self.parsed("-0") == .int(0))
        #expect(try Self.parsed("9223372036854775807") == .int(Int.max))
        #expect(try Self.parsed("-9223372036854775808") == .int(Int.min))
        #expect(try Self.parsed("9007199254740993") == .int(9_007_199_254_740_993))
        // As Python reads them: a point or an exponent makes a float, however whole its value.
        #expect(try Self.parsed("1.0") == .double(1.0))
        #expect(try Self.parsed("1e3") == .double(1000))
        #expect(try Self.parsed("-5E+2") == .double(-500))
        #expect(try Self.parsed("1.5e1") == .double(15))
        #expect(try Self.parsed("9007199254740993.0") == .double(9_007_199_254_740_992))
        #expect(try Self.parsed("100000000000000000000000e-5") == .double(1e18))
        #expect(try Self.parsed("1.5") == .double(1.5))
        #expect(try Self.parsed("1.25e1") == .double(12.5))
        #expect(try Self.parsed("-0.1") == .double(-0.1))
        #expect(try Self.parsed("5e-324") == .double(5e-324))
        #expect(try Self.parsed("9223372036854775808") == .largeInteger("9223372036854775808"))
        #expect(try Self.parsed("123456789012345678901234567890") == .largeInteger("123456789012345678901234567890"))
        #expect(try Self.parsed(#""a\"b\\c\/d\b\f\n\r\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\u{08}\u{0C}\n\r\té😀"))
        #expect(try Self.parsed(#""größe ✓""#) == .string("größe ✓"))
        #expect(try Self.parsed(#"[1, "x", {"k": [null, false, 2.5]}, []]"#)
            == .array([.int(1), .string("x"), .object(["k": .array([.null, .bool(false), .double(2.5)])]), .array([])]))
        #expect(try Self.parsed(#" {"a" : {"b": {}} } "#) == .object(["a": .object(["b": .object([:])])]))
    }

    @Test func documentsReadTheSameAsByTrial() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<3000 {
            let text = Self.randomDocument(depth: 0, using: &generator)
            #expect(try Self.asFoundationReadsIt(Self.parsed(text)) == Self.byTrial(text), "\(text)")
        }
    }

    /// `value` with whole floats within `Int` as integers: by trial `Int` is tried first, and
    /// Foundation gives `5.0` as 5 where Python (and the parser) keeps a float.
    static func asFoundationReadsIt(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number) where number.rounded(.towardZero) == number && abs(number) < 9e18: .int(Int(number))
        case .array(let items): .array(items.map(asFoundationReadsIt))
        case .object(let members): .object(members.mapValues(asFoundationReadsIt))
        default: value
        }
    }

    @Test func whatFoundationAcceptsBesidesTheGrammarIsAccepted() throws {
        #expect(try Self.parsed("[1,2,]") == .array([.int(1), .int(2)]))
        #expect(try Self.parsed(#"{"a":1,}"#) == .object(["a": .int(1)]))
        #expect(try Self.parsed("\u{FEFF}[1]") == .array([.int(1)]))
        // The first of duplicate keys wins.
        #expect(try Self.parsed(#"{"a":1,"a":2}"#) == .object(["a": .int(1)]))
        let deepest = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try Self.parsed(deepest) }
        let tooDeep = String(repeating: #"{"a":"#, count: 513) + "1" + String(repeating: "}", count: 513)
        #expect(throws: DecodingError.self) { try Self.parsed(tooDeep) }
        #expect(throws: DecodingError.self) { try Self.byTrial(tooDeep) }
    }

    @Test(arguments: [
        "", " ", "[", "{", "[1", #"{"a":1"#, "[,]", "[1,,2]", "{,}", "[1 2]", #"{"a"}"#, #"{"a":}"#, "{1:2}",
        "01", "1.", ".5", "+1", "-", "1e", "1e+", "NaN", "tru", "nul", "1 2", #"{"a":1}}"#, "1e400", "-1e400",
        "\u{0C}1", "\"a\u{01}\"", #""\x""#, #""\u00""#, #""\ud800""#, #""\udc00""#, #""\ud83d\u0041""#, #""abc"#,
    ])
    func invalidTextIsRefusedAsByTrial(text: String) throws {
        #expect(throws: DecodingError.self) { try Self.parsed(text) }
        #expect(throws: DecodingError.self) { try Self.byTrial(text) }
    }

    @Test func invalidUTF8IsRefused() throws {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            #expect(throws: DecodingError.self) { try JSONValue(parsing: bytes) }
            #expect(throws: DecodingError.self) { try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) }
        }
    }

    @Test func aJSONValueInsideABodyIsTakenWholeNotDecodedAgain() throws {
        let payload: JSONValue = .array((0..<1000).map { .object(["n": .int($0)]) })
        let body: JSONValue = .object(["payload": payload, "ttl_seconds": 60])
        let request = try JSONValueDecoder().decode(SubmitJobRequest.self, from: body)
        #expect(request.payload == payload)
        #expect(request.ttlSeconds == 60)
        // The same storage, not a copy rebuilt value by value.
        guard case .array(let original) = payload, case .array(let decoded) = request.payload else {
            Issue.record("payload is not an array")
            return
        }
        #expect(original.withUnsafeBufferPointer { $0.baseAddress } == decoded.withUnsafeBufferPointer { $0.baseAddress })
    }

    @Test(arguments: [
        #"{"payload": {"a": [1, 2.5, "x", null, true]}, "constraints": {"gpu": "4090"}, "ttl_seconds": 900}"#,
        #"{"payload": 1}"#, #"{"payload": null}"#, #"{"payload": 1, "ttl_seconds": 2.0}"#,
        #"{"payload": 1, "ttl_seconds": 1.5}"#, #"{"payload": 1, "ttl_seconds": "900"}"#,
        #"{"payload": 1, "ttl_seconds": null}"#, #"{"payload": 1, "ttl_seconds": 1e30}"#,
        #"{"payload": 1, "constraints": [1]}"#, #"{"payload": 1, "constraints": null}"#,
        #"{"ttl_seconds": 5}"#, "[]", "3", "null", "{", #"{"payload": 1,}"#,
    ])
    func submitBodiesDecodeOrFailAsWithJSONDecoder(body: String) throws {
        try Self.expectSameOutcome(SubmitJobRequest.self, body)
    }

    @Test(arguments: [
        #"{"name": "ci", "role": "client", "scopes": ["jobs:read"], "expires_at": "2027-01-01T00:00:00Z", "metadata": {"team": "ml"}}"#,
        #"{"name": "ci", "role": "client", "expires_at": "tomorrow"}"#,
        #"{"name": "ci", "role": "client", "expires_at": 5}"#, #"{"name": "ci", "role": "client", "expires_at": null}"#,
        #"{"name": "ci", "role": "client", "scopes": ["a", 1]}"#, #"{"name": "ci", "role": "client", "scopes": "a"}"#,
        #"{"name": 7, "role": "client"}"#, #"{"role": "client"}"#, #"{"name": "ci", "role": "client", "metadata": []}"#,
        #"{"name": "ci", "role": "client", "rate_limit_per_minute": -3}"#,
    ])
    func keyBodiesDecodeOrFailAsWithJSONDecoder(body: String) throws {
        try Self.expectSameOutcome(CreateAPIKeyRequest.self, body)
    }

    @Test(arguments: [
        #"{}"#, #"{"scopes": null, "expires_at": null, "rate_limit_per_minute": null}"#,
        #"{"scopes": ["jobs:read"], "expires_at": "2027-01-01T00:00:00Z", "rate_limit_per_minute": 30}"#,
        #"{"rate_limit_per_minute": "x"}"#, #"{"name": null, "metadata": {"a": [1, {"b": null}]}}"#,
    ])
    func patchBodiesKeepAbsentApartFromNullAsWithJSONDecoder(body: String) throws {
        try Self.expectSameOutcome(UpdateAPIKeyRequest.self, body)
    }

    // MARK: helpers

    /// Decodes `body` both ways: equal values, or errors of the same kind at the same path.
    static func expectSameOutcome<T: Decodable & Equatable>(_ type: T.Type, _ body: String) throws {
        let data = Data(body.utf8)
        let expected = Result { try RFC3339.makeDecoder().decode(type, from: data) }
        let actual = Result { try JSONValueDecoder().decode(type, from: data) }
        switch (expected, actual) {
        case (.success(let expected), .success(let actual)):
            #expect(expected == actual, "\(body)")
        case (.failure(let expected), .failure(let actual)):
            // One difference on purpose: JSONDecoder reports a number that does not fit its field (1.5 for
            // an integer) as invalid JSON at the root; here it names the field.
            if case .dataCorrupted(let context)? = expected as? DecodingError, context.codingPath.isEmpty,
                (try? JSONValue(parsing: data)) != nil
            {
                #expect(describe(actual).hasPrefix("dataCorrupted "), "\(body)")
                #expect(describe(actual) != "dataCorrupted ", "\(body)")
            } else {
                #expect(describe(expected) == describe(actual), "\(body)")
            }
        default:
            Issue.record("\(body): JSONDecoder \(expected), JSONValueDecoder \(actual)")
        }
    }

    /// An error's kind and coding path (what the server turns into `details.field`).
    static func describe(_ error: any Error) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "keyNotFound \(path(context)) \(key.stringValue)"
        case .typeMismatch(let type, let context)?: return "typeMismatch \(path(context)) \(type)"
        case .valueNotFound(_, let context)?: return "valueNotFound \(path(context))"
        case .dataCorrupted(let context)?: return "dataCorrupted \(path(context))"
        default: return "\(error)"
        }
    }

    static func randomDocument(depth: Int, using generator: inout SeededGenerator) -> String {
        switch Int.random(in: 0..<(depth > 4 ? 7 : 9), using: &generator) {
        case 0: return "null"
        case 1: return Bool.random(using: &generator) ? "true" : "false"
        case 2: return String(Int.random(in: Int.min...Int.max, using: &generator))
        case 3: return String(Double.random(in: -1e12...1e12, using: &generator))
        case 4:
            let whole = Int.random(in: -1000...1000, using: &generator)
            let exponent = Int.random(in: -4...4, using: &generator)
            return "\(whole).\(Int.random(in: 0...99, using: &generator))e\(exponent)"
        case 5: return "\(Int.random(in: -1000...1000, using: &generator)).0"
        case 6:
            let pieces = [#"a"#, #"é"#, #"\n"#, #"\u0041"#, #"\ud83d\ude00"#, #"\""#, "😀", " ", #"\\"#, "größe"]
            return "\"" + (0..<Int.random(in: 0..<8, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined() + "\""
        case 7:
            let count = Int.random(in: 0..<5, using: &generator)
            return "[" + (0..<count).map { _ in randomDocument(depth: depth + 1, using: &generator) }.joined(separator: ", ") + "]"
        default:
            let count = Int.random(in: 0..<5, using: &generator)
            return "{" + (0..<count).map { _ in
                "\"k\(Int.random(in: 0..<4, using: &generator))\": " + randomDocument(depth: depth + 1, using: &generator)
            }.joined(separator: ",") + "}"
        }
    }
}

/// A small deterministic generator (SplitMix64), so a failing document can be reproduced.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

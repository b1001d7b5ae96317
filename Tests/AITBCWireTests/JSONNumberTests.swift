import Foundation
import Testing

@testable import AITBCWire

/// Numbers keep the kind and the digits Python's `json` gives them (AITBC's coordinator is Python):
/// integers of any size exactly, floats as floats printed as `repr(float)` prints them.
@Suite struct JSONNumberTests {
    /// Python's `json.dumps(json.loads(text))` for each text: what a client sent is what it gets back.
    static let pythonRoundTrips: [(text: String, python: String)] = [
        ("12345678901234567890", "12345678901234567890"),
        ("-12345678901234567890", "-12345678901234567890"),
        ("1180591620717411303424", "1180591620717411303424"),  // 2**70
        ("-1180591620717411303424", "-1180591620717411303424"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775808", "9223372036854775808"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("123456789012345678901234567890123456789012345", "123456789012345678901234567890123456789012345"),
        ("2.0", "2.0"), ("-0.0", "-0.0"), ("1e16", "1e+16"), ("1e-7", "1e-07"), ("0.1", "0.1"),
        ("123456789012345680000.0", "1.2345678901234568e+20"), ("12345678901234567890.0", "1.2345678901234567e+19"),
        ("9.5e15", "9500000000000000.0"), ("1e15", "1000000000000000.0"), ("1e3", "1000.0"), ("-5E+2", "-500.0"),
        ("5e-324", "5e-324"), ("1e22", "1e+22"), ("0.99999999999999999999", "1.0"),
    ]

    @Test func integersOutsideIntKeepEveryDigit() throws {
        #expect(try JSONValue(parsing: "-9223372036854775808") == .int(Int.min))
        #expect(try JSONValue(parsing: "9223372036854775807") == .int(Int.max))
        #expect(try JSONValue(parsing: "9223372036854775808") == .largeInteger("9223372036854775808"))
        #expect(try JSONValue(parsing: "-9223372036854775809") == .largeInteger("-9223372036854775809"))
        #expect(try JSONValue(parsing: "12345678901234567890") == .largeInteger("12345678901234567890"))
        #expect(try JSONValue(parsing: "[1180591620717411303424]") == [.largeInteger("1180591620717411303424")])
    }

    @Test func floatsStayFloatsHoweverWhole() throws {
        #expect(try JSONValue(parsing: "2.0") == .double(2.0))
        #expect(try JSONValue(parsing: "1e3") == .double(1000))
        let negativeZero = try #require(try JSONValue(parsing: "-0.0").doubleValue)
        #expect(negativeZero == 0 && negativeZero.sign == .minus)
    }

    @Test func everyWriterWritesNumbersAsPythonDoes() throws {
        for (text, python) in Self.pythonRoundTrips {
            let value = try JSONValue(parsing: text)
            #expect(value.numberText == python, "\(text)")
            #expect(value.jsonText == python, "\(text)")
            #expect(CanonicalJSON.string([value]) == "[\(python)]", "\(text)")
            let foundation = try JSONRawNumbers.shared.encode(["n": value], with: JSONRawNumbers.makeEncoder())
            #expect(String(decoding: foundation, as: UTF8.self) == #"{"n":\#(python)}"#, "\(text)")
            #expect(try JSONValue(parsing: python) == value, "\(text)")
        }
    }

    @Test func storedTextReadsBackEqual() throws {
        let payload: JSONValue = [
            "big": .largeInteger("12345678901234567890"), "negative": .largeInteger("-1180591620717411303424"),
            "units": .double(2.0), "zero": .double(-0.0), "small": .int(-9_223_372_036_854_775_808), "none": nil,
        ]
        #expect(
            payload.jsonText
                == #"{"big":12345678901234567890,"negative":-1180591620717411303424,"none":null,"small":-9223372036854775808,"units":2.0,"zero":-0.0}"#)
        #expect(try JSONValue(parsing: payload.jsonText) == payload)
    }

    @Test func aStringShapedLikeAPlaceholderStaysAString() throws {
        let forged: JSONValue = ["n": .string("\u{0}00000000000000000000000000000000:1"), "m": .double(2.0)]
        let text = try JSONRawNumbers.shared.encode(forged, with: JSONRawNumbers.makeEncoder())
        #expect(try JSONValue(parsing: text) == forged)
    }

    @Test func decodingAskedTypesFromLargeIntegers() throws {
        struct Numbers: Decodable { var unsigned: UInt64, double: Double }
        let numbers = try JSONValueDecoder().decode(Numbers.self, from: Data(#"{"unsigned":12345678901234567890,"double":12345678901234567890}"#.utf8))
        #expect(numbers.unsigned == 12_345_678_901_234_567_890)
        #expect(numbers.double == 12_345_678_901_234_567_890.0)
        struct Signed: Decodable { var n: Int }
        #expect(throws: DecodingError.self) { try JSONValueDecoder().decode(Signed.self, from: Data(#"{"n":12345678901234567890}"#.utf8)) }
    }

    @Test func foreignEncodersKeepLargeIntegersUpToDecimalsPrecision() throws {
        let value: JSONValue = ["n": .largeInteger("12345678901234567890")]
        #expect(String(decoding: try JSONEncoder().encode(value), as: UTF8.self) == #"{"n":12345678901234567890}"#)
    }
}

import AITBCWire
import Foundation
import Testing

/// The hand-written base64url encoder against Foundation's base64 with the URL alphabet and no padding.
struct Base64URLTests {
    static func reference(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    @Test func everyLengthFromZeroTo200AndEveryByteValueEncodeAsFoundationDoes() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...200 {
            for _ in 0..<5 {
                let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
                let encoded = Base64URL.encode(bytes)
                #expect(encoded == Self.reference(bytes), "length \(length)")
                #expect(Base64URL.decode(encoded) == bytes, "length \(length)")
            }
        }
        // Every byte at every position of a 3-byte group: all 64 characters, and "-" and "_" among them.
        for byte in UInt8.min...UInt8.max {
            for bytes in [[byte], [0, byte], [0, 0, byte], [byte, byte, byte, byte]] {
                #expect(Base64URL.encode(bytes) == Self.reference(bytes))
            }
        }
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8")
        #expect(Base64URL.encode(Data([0xFB, 0xFF, 0xBF])) == "-_-_")
    }
}

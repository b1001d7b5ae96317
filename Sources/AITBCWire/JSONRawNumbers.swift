import Foundation

/// Lets Foundation's `JSONEncoder` write ``JSONValue`` numbers exactly as Python does
/// (`12345678901234567890`, `2.0`, `-0.0`), which it cannot by itself: it has no way to take number
/// text, writes `2.0` as `2`, and rounds integers past 38 digits.
///
/// Under an encoder made by ``makeEncoder()`` a ``JSONValue`` encodes such a number as a string
/// that begins with a NUL and a 128-bit random marker chosen once per process; ``encode(_:with:)``
/// then turns each such string back into the bare number. A client cannot forge a placeholder:
/// the marker never leaves the process.
public struct JSONRawNumbers: Sendable {
    /// The `userInfo` key under which ``JSONValue`` finds the marker.
    public static let userInfoKey = CodingUserInfoKey(rawValue: "aitbc.json-raw-numbers")!

    /// The process's marker.
    public static let shared = JSONRawNumbers()

    private let marker: String
    /// A placeholder's first bytes as `JSONEncoder` writes them: quote, `\u0000`, marker, colon.
    private let written: [UInt8]

    private init() {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }
            .map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
        marker = "\u{0}" + hex + ":"
        written = Array(("\"\\u0000" + hex + ":").utf8)
    }

    /// The string that stands for `text` until ``encode(_:with:)`` writes the number.
    func placeholder(for text: String) -> String { marker + text }

    /// `encoder` (a fresh one is best: its `userInfo` is changed) set to write placeholders.
    public static func makeEncoder(_ encoder: JSONEncoder = JSONEncoder()) -> JSONEncoder {
        encoder.userInfo[userInfoKey] = shared
        return encoder
    }

    /// `value` as JSON text from `encoder` (made by ``makeEncoder()``), placeholders replaced by their numbers.
    public func encode(_ value: some Encodable, with encoder: JSONEncoder) throws -> Data {
        restored(try encoder.encode(value))
    }

    /// `text` with each placeholder (quotes included) replaced by the number it stands for; `text`
    /// itself when it has none (most responses), without a copy.
    func restored(_ text: Data) -> Data {
        text.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> Data in
            guard var next = firstPlaceholder(in: bytes, from: 0) else { return text }
            var output = Data(capacity: bytes.count)
            var copied = 0
            while true {
                output.append(contentsOf: bytes[copied..<next])
                var end = next + written.count
                while end < bytes.count, bytes[end] != UInt8(ascii: "\"") { end += 1 }
                output.append(contentsOf: bytes[(next + written.count)..<end])
                copied = min(end + 1, bytes.count)
                guard let found = firstPlaceholder(in: bytes, from: copied) else { break }
                next = found
            }
            output.append(contentsOf: bytes[copied...])
            return output
        }
    }

    private func firstPlaceholder(in bytes: UnsafeRawBufferPointer, from start: Int) -> Int? {
        guard bytes.count - start >= written.count else { return nil }
        let first = written[0], second = written[1]
        for index in start...(bytes.count - written.count)
        where bytes[index] == first && bytes[index + 1] == second
            && bytes[index..<(index + written.count)].elementsEqual(written)
        {
            return index
        }
        return nil
    }
}

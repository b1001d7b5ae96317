/// Reads JSON text into a ``JSONValue`` in one pass: each value's kind is decided by its first byte,
/// so nothing is tried and thrown away, and the work is linear in the size of the text.
///
/// It accepts what Foundation's `JSONDecoder` accepts (UTF-8 with an optional byte order mark,
/// trailing commas in arrays and objects, nesting up to 512 levels; the first of duplicate keys
/// wins). Numbers are read as Python's `json.loads` reads them: one without a fraction or exponent
/// is an integer with every digit — ``JSONValue/int(_:)`` within `Int`, else
/// ``JSONValue/largeInteger(_:)`` — and any other is ``JSONValue/double(_:)`` (`1.0`, `1e3` and
/// `-0.0` too, so they are written back as they came); one beyond `Double`'s range is an error.
struct JSONValueParser {
    static let maximumDepth = 512

    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    private init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The document in `bytes` (UTF-8 JSON text).
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
        var parser = JSONValueParser(bytes)
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.index = 3 }
        let value = try parser.value(depth: 0)
        parser.skipWhitespace()
        guard parser.index == bytes.count else { throw parser.invalid("unexpected text after the value") }
        return value
    }

    // MARK: values

    private mutating func value(depth: Int) throws -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw invalid("unexpected end of text") }
        switch bytes[index] {
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "{"): return .object(try object(depth: depth + 1))
        case UInt8(ascii: "["): return .array(try array(depth: depth + 1))
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw invalid("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws {
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw invalid("unexpected end of text") }
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: count)
        for offset in 0..<count where bytes[index + offset] != expected[offset] { throw invalid("unexpected character") }
        index += count
    }

    private mutating func array(depth: Int) throws -> [JSONValue] {
        guard depth <= Self.maximumDepth else { throw invalid("nested too deeply") }
        index += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return elements
        }
        while true {
            elements.append(try value(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw invalid("unexpected end of text") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "]") { return elements }
            guard byte == UInt8(ascii: ",") else { throw invalid("expected , or ]") }
            // A trailing comma is accepted, as Foundation's decoder accepts it.
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return elements
            }
        }
    }

    private mutating func object(depth: Int) throws -> [String: JSONValue] {
        guard depth <= Self.maximumDepth else { throw invalid("nested too deeply") }
        index += 1
        var members: [(String, JSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return [:]
        }
        while true {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw invalid("expected a key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw invalid("expected :") }
            index += 1
            members.append((key, try value(depth: depth)))
            skipWhitespace()
            guard index < bytes.count else { throw invalid("unexpected end of text") }
            let byte = bytes[index]
            index += 1
            if byte == UInt8(ascii: "}") { break }
            guard byte == UInt8(ascii: ",") else { throw invalid("expected , or }") }
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                break
            }
        }
        // The first of duplicate keys wins, as with Foundation's decoder.
        return Dictionary(members, uniquingKeysWith: { first, _ in first })
    }

    // MARK: strings

    private mutating func string() throws -> String {
        index += 1
        let start = index
        var high: UInt8 = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                // ASCII is valid UTF-8 as it stands; anything else is checked before it becomes a String.
                guard high < 0x80 || Self.isValidUTF8(text) else { throw invalid("a string is not valid UTF-8") }
                return String(decoding: text, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { return try escapedString(from: start) }
            guard byte >= 0x20 else { throw invalid("unescaped control character in a string") }
            high |= byte
            index += 1
        }
        throw invalid("unterminated string")
    }

    /// The rest of a string that has escapes, `start` being its first byte after the quote.
    private mutating func escapedString(from start: Int) throws -> String {
        var unescaped = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""): return try utf8(unescaped)
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { throw invalid("unterminated string") }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): unescaped.append(escape)
                case UInt8(ascii: "b"): unescaped.append(0x08)
                case UInt8(ascii: "f"): unescaped.append(0x0C)
                case UInt8(ascii: "n"): unescaped.append(0x0A)
                case UInt8(ascii: "r"): unescaped.append(0x0D)
                case UInt8(ascii: "t"): unescaped.append(0x09)
                case UInt8(ascii: "u"): try appendUnicodeEscape(to: &unescaped)
                default: throw invalid("unknown escape in a string")
                }
            default:
                guard byte >= 0x20 else { throw invalid("unescaped control character in a string") }
                unescaped.append(byte)
            }
        }
        throw invalid("unterminated string")
    }

    /// Appends the UTF-8 of a `\uXXXX` escape (a surrogate pair takes two); a lone surrogate is an error.
    private mutating func appendUnicodeEscape(to output: inout [UInt8]) throws {
        var scalar = try hexQuad()
        if (0xD800...0xDBFF).contains(scalar) {
            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw invalid("unpaired surrogate in a string") }
            index += 2
            let low = try hexQuad()
            guard (0xDC00...0xDFFF).contains(low) else { throw invalid("unpaired surrogate in a string") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw invalid("unpaired surrogate in a string")
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw invalid("invalid \\u escape") }
        output.append(contentsOf: UTF8.encode(unicode)!)
    }

    private mutating func hexQuad() throws -> UInt32 {
        guard bytes.count - index >= 4 else { throw invalid("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw invalid("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private func utf8(_ codeUnits: [UInt8]) throws -> String {
        try codeUnits.withUnsafeBufferPointer { text in
            guard Self.isValidUTF8(text) else { throw invalid("a string is not valid UTF-8") }
            return String(decoding: text, as: UTF8.self)
        }
    }

    // MARK: numbers

    private mutating func number() throws -> JSONValue {
        let start = index
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        // Integer digits, accumulated while they fit: most numbers end here.
        let integerStart = index
        var magnitude: UInt64 = 0
        var overflow = false
        while index < bytes.count, let digit = Self.digit(bytes[index]) {
            let (times10, carry1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, carry2) = times10.addingReportingOverflow(UInt64(digit))
            overflow = overflow || carry1 || carry2
            magnitude = sum
            index += 1
        }
        let integerEnd = index
        guard integerEnd > integerStart else { throw invalid("a number needs digits") }
        guard integerEnd - integerStart == 1 || bytes[integerStart] != UInt8(ascii: "0") else {
            throw invalid("leading zero in a number")
        }
        var fractionStart = index, fractionEnd = index
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            fractionStart = index
            while index < bytes.count, Self.digit(bytes[index]) != nil { index += 1 }
            fractionEnd = index
            guard fractionEnd > fractionStart else { throw invalid("a number needs digits after its point") }
        }
        var hasExponent = false
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            hasExponent = true
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            let exponentStart = index
            while index < bytes.count, Self.digit(bytes[index]) != nil { index += 1 }
            guard index > exponentStart else { throw invalid("a number needs digits in its exponent") }
        }
        let isInteger = fractionEnd == fractionStart && !hasExponent
        if isInteger, !overflow, let integer = Self.integer(magnitude, negative: negative) { return .int(integer) }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        // No leading zeros (refused above) and not -0 (it fits in Int): the text is already canonical.
        if isInteger { return .largeInteger(text) }
        guard let double = Double(text), double.isFinite else { throw invalid("a number is too large") }
        return .double(double)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private static func digit(_ byte: UInt8) -> UInt8? {
        let digit = byte &- UInt8(ascii: "0")
        return digit < 10 ? digit : nil
    }

    private static func integer(_ magnitude: UInt64, negative: Bool) -> Int? {
        if negative {
            if magnitude <= UInt64(Int64.max) { return -Int(magnitude) }
            return magnitude == UInt64(Int64.max) + 1 ? Int.min : nil
        }
        return magnitude <= UInt64(Int64.max) ? Int(magnitude) : nil
    }

    private func invalid(_ reason: String) -> DecodingError {
        DecodingError.dataCorrupted(
            DecodingError.Context(codingPath: [], debugDescription: "The given data was not valid JSON: \(reason) at byte \(index)."))
    }
}

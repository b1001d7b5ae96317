/// JSON text exactly as Python's `json.dumps(value, sort_keys=True, separators=(",", ":"))` writes
/// it (`ensure_ascii` on): the canonical form AITBC signs receipts over (`aitbc_crypto.receipt.canonical_json`).
///
/// Keys are sorted by code point (Python's `str` order, which is UTF-8 byte order); everything
/// outside printable ASCII is `\uXXXX` (lowercase hex, characters beyond the BMP as surrogate
/// pairs, U+2028 and U+2029 too); `/` is not escaped. Numbers print as Python prints them: an
/// integer in full however large, a finite double as `repr(float)` (shortest round-trip digits,
/// `2.0`, `-0.0`, `1e+16`, `1e-05`, `2.5`). A non-finite double counts as `null`.
/// With `removingNulls` (what AITBC signs), `null` members and array elements are left out at
/// every depth.
public enum CanonicalJSON {
    /// The canonical text of `value`.
    public static func string(_ value: JSONValue, removingNulls: Bool = true) -> String {
        var output: [UInt8] = []
        write(value, removingNulls: removingNulls, to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// The canonical text of `value` as UTF-8 bytes: what is signed.
    public static func bytes(_ value: JSONValue, removingNulls: Bool = true) -> [UInt8] {
        var output: [UInt8] = []
        write(value, removingNulls: removingNulls, to: &output)
        return output
    }

    /// `value` with every non-finite double turned into `null`: the value the wire decoder reads
    /// back from its text.
    public static func normalized(_ value: JSONValue) -> JSONValue {
        switch value {
        case .double(let number): return number.isFinite ? value : .null
        case .array(let items): return .array(items.map(normalized))
        case .object(let members): return .object(members.mapValues(normalized))
        case .null, .bool, .int, .largeInteger, .string: return value
        }
    }

    /// `number` as Python's `repr` prints a float (finite numbers only).
    public static func pythonRepr(_ number: Double) -> String {
        let (negative, digits, point) = shortestDigits(number)
        var text = negative ? "-" : ""
        if point > -4 && point <= 16 {
            if point <= 0 {
                text += "0." + String(repeating: "0", count: -point) + digits
            } else if point < digits.count {
                text += digits.prefix(point) + "." + digits.dropFirst(point)
            } else {
                text += digits + String(repeating: "0", count: point - digits.count) + ".0"
            }
        } else {
            let exponent = point - 1
            text += digits.prefix(1)
            if digits.count > 1 { text += "." + digits.dropFirst() }
            text += exponent < 0 ? "e-" : "e+"
            let magnitude = String(abs(exponent))
            text += magnitude.count < 2 ? "0" + magnitude : magnitude
        }
        return text
    }

    // MARK: writing

    private static func write(_ value: JSONValue, removingNulls: Bool, to output: inout [UInt8]) {
        switch value {
        case .null: output += Array("null".utf8)
        case .bool(let flag): output += Array((flag ? "true" : "false").utf8)
        case .int(let number): output += Array(String(number).utf8)
        case .largeInteger(let text): output += Array(text.utf8)
        case .double(let number): output += Array((number.isFinite ? pythonRepr(number) : "null").utf8)
        case .string(let text): writeString(text, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            var first = true
            for item in items where !(removingNulls && isNull(item)) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                write(item, removingNulls: removingNulls, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            let keys = members.keys.filter { !(removingNulls && isNull(members[$0]!)) }
                .map { (key: $0, bytes: Array($0.utf8)) }
                .sorted { $0.bytes.lexicographicallyPrecedes($1.bytes) }
            for (index, key) in keys.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key.key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(members[key.key]!, removingNulls: removingNulls, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Whether `value` is written as `null` (and so left out when nulls are removed).
    private static func isNull(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .double(let number): !number.isFinite
        default: false
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    private static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        for unit in text.utf16 {
            switch unit {
            case 0x22: output += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case 0x5C: output += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: output += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: output += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: output += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: output += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: output += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0x20...0x7E: output.append(UInt8(unit))
            default:
                output += [UInt8(ascii: "\\"), UInt8(ascii: "u")]
                output += [hex[Int(unit >> 12)], hex[Int(unit >> 8 & 0xF)], hex[Int(unit >> 4 & 0xF)], hex[Int(unit & 0xF)]]
            }
        }
        output.append(UInt8(ascii: "\""))
    }

    // MARK: numbers

    /// The shortest digits that read back as `number` (no leading or trailing zeros) and where the
    /// decimal point goes: `number` = ±0.DIGITS × 10^point. Swift's `description` gives the same
    /// shortest, closest digits as Python's `repr`; only the layout differs.
    private static func shortestDigits(_ number: Double) -> (negative: Bool, digits: String, point: Int) {
        if number == 0 { return (number.sign == .minus, "0", 1) }
        var text = Substring(number.magnitude.description)
        var exponent = 0
        if let mark = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            exponent = Int(text[text.index(after: mark)...]) ?? 0
            text = text[..<mark]
        }
        var whole = text
        var fraction: Substring = ""
        if let dot = text.firstIndex(of: ".") {
            whole = text[..<dot]
            fraction = text[text.index(after: dot)...]
        }
        var digits = String(whole) + fraction
        var point = whole.count + exponent
        while digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.hasSuffix("0") { digits.removeLast() }
        return (number.sign == .minus, digits, point)
    }
}

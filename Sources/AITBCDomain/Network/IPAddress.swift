/// An IPv4 or IPv6 address as 128 bits; IPv4 is held IPv4-mapped (`::ffff:a.b.c.d`), so `10.0.0.1` and
/// `::ffff:10.0.0.1` are the same address and one CIDR list covers both.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    /// The first and last 64 bits, in network order.
    public let high: UInt64
    public let low: UInt64

    static let mappedPrefix: UInt64 = 0x0000_ffff_0000_0000

    /// The address of 128 bits given as two halves, first half first.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The IPv4 address `value` (`10.0.0.1` is `0x0a00_0001`).
    public init(ipv4 value: UInt32) {
        self.init(high: 0, low: Self.mappedPrefix | UInt64(value))
    }

    /// The IPv6 address of 16 bytes in network order.
    public init(ipv6 bytes: [UInt8]) {
        precondition(bytes.count == 16, "an IPv6 address has 16 bytes")
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<8 {
            high = high << 8 | UInt64(bytes[index])
            low = low << 8 | UInt64(bytes[index + 8])
        }
        self.init(high: high, low: low)
    }

    /// Parses `192.0.2.1`, `2001:db8::1` or `::ffff:192.0.2.1`; nil for anything else (zones, ports,
    /// brackets, leading zeros in an IPv4 part).
    public init?(_ text: some StringProtocol) {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty, bytes.count <= 45 else { return nil }
        if !bytes.contains(UInt8(ascii: ":")) {
            guard let value = Self.ipv4(bytes[...]) else { return nil }
            self.init(ipv4: value)
        } else {
            guard let (high, low) = Self.ipv6(bytes) else { return nil }
            self.init(high: high, low: low)
        }
    }

    /// The IPv4 address of an IPv4 (or IPv4-mapped) address.
    public var ipv4: UInt32? {
        high == 0 && low >> 32 == 0xffff ? UInt32(truncatingIfNeeded: low) : nil
    }

    /// The address as text: dotted IPv4, or IPv6 in its canonical form (RFC 5952: lowercase, no leading
    /// zeros, the longest run of zero groups as `::`).
    public var description: String {
        if let ipv4 {
            return "\(ipv4 >> 24).\(ipv4 >> 16 & 0xff).\(ipv4 >> 8 & 0xff).\(ipv4 & 0xff)"
        }
        let groups = (0..<8).map { index -> UInt16 in
            let word = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: word >> (UInt64(3 - index % 4) * 16))
        }
        var bestStart = -1, bestLength = 0, index = 0
        while index < 8 {
            guard groups[index] == 0 else {
                index += 1
                continue
            }
            var end = index
            while end < 8, groups[end] == 0 { end += 1 }
            if end - index > bestLength, end - index >= 2 { (bestStart, bestLength) = (index, end - index) }
            index = end
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// What throttles count per: an IPv4 address itself, an IPv6 address's /64 (one subscriber usually
    /// holds a whole /64, so counting single IPv6 addresses would let one client be millions).
    public var throttleKey: String {
        ipv4 == nil ? IPAddress(high: high, low: 0).description + "/64" : description
    }

    /// Whether the first `length` bits (0 … 128) of this address and `other` are the same.
    public func sharesPrefix(_ length: Int, with other: IPAddress) -> Bool {
        let length = max(0, min(128, length))
        let highMask: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : ~(UInt64.max >> UInt64(length)))
        let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : ~(UInt64.max >> UInt64(length - 64)))
        return (high ^ other.high) & highMask == 0 && (low ^ other.low) & lowMask == 0
    }

    /// Four decimal parts 0 … 255, without leading zeros (`010` is octal to some parsers: refused).
    static func ipv4(_ bytes: ArraySlice<UInt8>) -> UInt32? {
        var value: UInt32 = 0, parts = 0, part: UInt32 = 0, digits = 0
        for byte in bytes {
            if byte == UInt8(ascii: ".") {
                guard digits > 0, parts < 3 else { return nil }
                value = value << 8 | part
                parts += 1
                (part, digits) = (0, 0)
            } else if byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
                if digits > 0, part == 0 { return nil }
                part = part * 10 + UInt32(byte - UInt8(ascii: "0"))
                digits += 1
                guard part <= 255 else { return nil }
            } else {
                return nil
            }
        }
        guard digits > 0, parts == 3 else { return nil }
        return value << 8 | part
    }

    /// Up to eight groups of 1 … 4 hex digits, at most one `::`, the last 32 bits optionally dotted IPv4.
    static func ipv6(_ bytes: [UInt8]) -> (UInt64, UInt64)? {
        var head: [UInt16] = [], tail: [UInt16] = []
        var compressed = false
        var index = 0
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressed = true
            index = 2
            if index == bytes.count { return (0, 0) }
        } else if bytes.first == UInt8(ascii: ":") {
            return nil
        }
        while index < bytes.count {
            var end = index
            while end < bytes.count, bytes[end] != UInt8(ascii: ":") { end += 1 }
            let part = bytes[index..<end]
            if part.contains(UInt8(ascii: ".")) {
                // Dotted IPv4 only as the last part.
                guard end == bytes.count, let value = ipv4(part) else { return nil }
                let groups = [UInt16(value >> 16), UInt16(truncatingIfNeeded: value)]
                if compressed { tail += groups } else { head += groups }
                index = end
                break
            }
            guard (1...4).contains(part.count), let group = hexGroup(part) else { return nil }
            if compressed { tail.append(group) } else { head.append(group) }
            if end == bytes.count { break }
            // At a ':': a second one right after it is the compression.
            if end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: ":") {
                guard !compressed else { return nil }
                compressed = true
                index = end + 2
                if index == bytes.count { break }
            } else {
                guard end + 1 < bytes.count else { return nil }
                index = end + 1
            }
        }
        let count = head.count + tail.count
        guard compressed ? count <= 7 : count == 8 else { return nil }
        let groups = head + Array(repeating: 0, count: 8 - count) + tail
        var high: UInt64 = 0, low: UInt64 = 0
        for index in 0..<4 {
            high = high << 16 | UInt64(groups[index])
            low = low << 16 | UInt64(groups[index + 4])
        }
        return (high, low)
    }

    static func hexGroup(_ digits: ArraySlice<UInt8>) -> UInt16? {
        var value: UInt16 = 0
        for byte in digits {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }
}

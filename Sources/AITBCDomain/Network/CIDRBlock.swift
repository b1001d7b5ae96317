/// A range of addresses written as CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address. An IPv4
/// block also covers the IPv4-mapped IPv6 form of its addresses.
public struct CIDRBlock: Hashable, Sendable, CustomStringConvertible {
    /// The first address of the block (host bits cleared).
    public let network: IPAddress
    /// Leading bits that must match, counted over 128 bits (an IPv4 `/8` is 104 here).
    public let prefixLength: Int

    /// Why a CIDR text was refused.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses `ADDRESS/BITS` or a bare `ADDRESS`; BITS is 0 … 32 for IPv4, 0 … 128 for IPv6. Host bits
    /// are allowed and ignored (`10.1.2.3/8` is `10.0.0.0/8`).
    public init(parsing text: some StringProtocol) throws(Invalid) {
        let trimmed = text.trimmingSpaces
        let parts = trimmed.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(parts[0]) else {
            throw Invalid(description: "\"\(trimmed)\" is not an IPv4 or IPv6 address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)")
        }
        let isIPv4 = !parts[0].contains(":")
        let maximum = isIPv4 ? 32 : 128
        var bits = maximum
        if parts.count == 2 {
            guard let number = Int(parts[1]), parts[1].allSatisfy(\.isASCIIDigit), (0...maximum).contains(number) else {
                throw Invalid(description: "\"\(trimmed)\": the prefix length after / must be 0 … \(maximum)")
            }
            bits = number
        }
        self.init(address, prefixLength: isIPv4 ? 96 + bits : bits)
    }

    /// The block of `prefixLength` (0 … 128, over 128 bits) leading bits of `address`.
    public init(_ address: IPAddress, prefixLength: Int) {
        let length = max(0, min(128, prefixLength))
        let highMask: UInt64 = length >= 64 ? .max : (length == 0 ? 0 : ~(UInt64.max >> UInt64(length)))
        let lowMask: UInt64 = length <= 64 ? 0 : (length == 128 ? .max : ~(UInt64.max >> UInt64(length - 64)))
        self.network = IPAddress(high: address.high & highMask, low: address.low & lowMask)
        self.prefixLength = length
    }

    /// Whether `address` lies in this block.
    public func contains(_ address: IPAddress) -> Bool {
        network.sharesPrefix(prefixLength, with: address)
    }

    /// The block as written in settings: IPv4 blocks in IPv4 form.
    public var description: String {
        if network.ipv4 != nil, prefixLength >= 96 { return "\(network)/\(prefixLength - 96)" }
        return "\(network)/\(prefixLength)"
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    var trimmingSpaces: SubSequence {
        let isSpace = { (character: Character) in character == " " || character == "\t" }
        guard let start = firstIndex(where: { !isSpace($0) }), let end = lastIndex(where: { !isSpace($0) }) else {
            return self[endIndex...]
        }
        return self[start...end]
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

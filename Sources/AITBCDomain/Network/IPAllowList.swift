/// The addresses a key may be used from (`allowed_ips`): up to 100 CIDR blocks, IPv4 and IPv6.
///
/// Entries are kept in canonical form, always with their prefix length: `203.0.113.0/24`,
/// `2001:db8::/32`, a bare address as `198.51.100.7/32` or `2001:db8::7/128`. An entry with bits set
/// beyond its prefix (`10.1.2.3/8`) is refused rather than widened: in an allow-list such a typo most
/// likely meant a narrower range. Like ``CIDRBlock``, an IPv4 block also covers the IPv4-mapped IPv6
/// form of its addresses, and `::/0` covers every IPv4 address too.
public struct IPAllowList: Sendable, Hashable {
    /// The most entries one list may hold.
    public static let maximumEntries = 100

    /// The blocks, in the order first given, without duplicates.
    public let blocks: [CIDRBlock]

    /// Why a list was refused.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// Parses the entries a caller sent; at least one, at most ``maximumEntries``, each a CIDR block
    /// or an address without host bits beyond its prefix. Duplicates (after canonicalisation) are dropped.
    public init(parsing entries: [String]) throws(Invalid) {
        guard !entries.isEmpty else { throw Invalid(description: "allowed_ips must hold at least one entry, or be null") }
        guard entries.count <= Self.maximumEntries else {
            throw Invalid(description: "allowed_ips may hold at most \(Self.maximumEntries) entries")
        }
        var blocks: [CIDRBlock] = []
        for entry in entries {
            let block = try Self.strictBlock(entry)
            if !blocks.contains(block) { blocks.append(block) }
        }
        self.blocks = blocks
    }

    /// A list read back from storage (``storedText``); nil when it holds no valid entry.
    public init?(stored text: String?) {
        guard let text else { return nil }
        let blocks = text.split(separator: " ").compactMap { try? CIDRBlock(parsing: $0) }
        guard !blocks.isEmpty else { return nil }
        self.blocks = blocks
    }

    /// The blocks as the API returns them.
    public var entries: [String] { blocks.map(\.description) }

    /// The form storage keeps: the canonical entries separated by spaces.
    public var storedText: String { entries.joined(separator: " ") }

    /// Whether a request from `address` may use the key; an unknown address never may.
    @inlinable
    public func admits(_ address: IPAddress?) -> Bool {
        guard let address else { return false }
        for block in blocks where block.contains(address) { return true }
        return false
    }

    /// Whether every address `other` admits is one this list admits too: each of its blocks lies
    /// inside one of these.
    public func covers(_ other: IPAllowList) -> Bool {
        other.blocks.allSatisfy { inner in
            blocks.contains { outer in outer.prefixLength <= inner.prefixLength && outer.contains(inner.network) }
        }
    }

    /// `entry` as a block, refusing host bits beyond the prefix.
    static func strictBlock(_ entry: String) throws(Invalid) -> CIDRBlock {
        let shown = entry.prefix(64)
        let block: CIDRBlock
        do {
            block = try CIDRBlock(parsing: entry)
        } catch {
            throw Invalid(description: "allowed_ips: \(error.description.prefix(160))")
        }
        let written = entry.trimmingSpaces.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0]
        guard IPAddress(written) == block.network else {
            throw Invalid(
                description: "allowed_ips: \"\(shown)\" has bits set beyond its prefix; did you mean \(block)?")
        }
        return block
    }
}

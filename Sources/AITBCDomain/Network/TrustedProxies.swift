/// Which peers are proxies whose `X-Forwarded-For` the coordinator believes, and how the client's address
/// is found behind them.
///
/// The client is the peer itself unless the peer is trusted. Behind a trusted peer, `X-Forwarded-For` is
/// read from the right (each proxy appends the address it was connected from), skipping trusted proxies;
/// the first address that is not trusted is the client. A client can write anything into the header, but
/// only to the left of what the first trusted proxy appended, so what it writes is never reached. When
/// every hop is trusted the leftmost is the client; an entry that is not an address stops the walk at the
/// trusted hop that passed it on.
public struct TrustedProxies: Sendable, Equatable {
    /// Peers and hops that are proxies of this deployment (`AITBC_TRUSTED_PROXIES`).
    public var blocks: [CIDRBlock]
    /// Treat every peer as a proxy (the older `AITBC_TRUST_PROXY_HEADERS=true`): the client is then the
    /// rightmost `X-Forwarded-For` entry outside ``blocks``. Safe only when nothing reaches the server
    /// except through a proxy that appends to the header.
    public var trustsEveryPeer: Bool

    public init(blocks: [CIDRBlock] = [], trustsEveryPeer: Bool = false) {
        self.blocks = blocks
        self.trustsEveryPeer = trustsEveryPeer
    }

    /// Parses a comma-separated list of CIDR blocks or addresses (`10.0.0.0/8, 2001:db8::/32, 192.0.2.7`).
    public init(parsing list: String) throws(CIDRBlock.Invalid) {
        var blocks: [CIDRBlock] = []
        for entry in list.split(separator: ",") where !entry.trimmingSpaces.isEmpty {
            blocks.append(try CIDRBlock(parsing: entry))
        }
        self.init(blocks: blocks)
    }

    /// Whether `address` is a proxy of this deployment.
    public func trusts(_ address: IPAddress) -> Bool {
        blocks.contains { $0.contains(address) }
    }

    /// The client's address for a request from `peer` (nil: unknown) carrying `forwardedFor`, the
    /// `X-Forwarded-For` field lines in the order received.
    public func client(peer: IPAddress?, forwardedFor: [String]) -> IPAddress? {
        if let peer {
            guard trustsEveryPeer || trusts(peer) else { return peer }
        } else if !trustsEveryPeer {
            return nil
        }
        var nearest = peer
        for line in forwardedFor.reversed() {
            for entry in line.split(separator: ",", omittingEmptySubsequences: false).reversed() {
                let text = entry.trimmingSpaces
                if text.isEmpty { continue }
                guard let address = Self.address(inForwardedEntry: text) else { return nearest }
                if !trusts(address) { return address }
                nearest = address
            }
        }
        return nearest
    }

    /// An entry's address, accepting the port and brackets some proxies add (`192.0.2.1:4711`, `[2001:db8::1]:443`).
    static func address(inForwardedEntry entry: Substring) -> IPAddress? {
        if let address = IPAddress(entry) { return address }
        if entry.first == "[", let close = entry.firstIndex(of: "]") {
            let rest = entry[entry.index(after: close)...]
            guard rest.isEmpty || Self.isPort(rest.dropFirst()) && rest.first == ":" else { return nil }
            return IPAddress(entry[entry.index(after: entry.startIndex)..<close])
        }
        let parts = entry.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2, isPort(parts[1]), let address = IPAddress(parts[0]), address.ipv4 != nil {
            return address
        }
        return nil
    }

    static func isPort(_ text: Substring) -> Bool {
        (1...5).contains(text.count) && text.allSatisfy(\.isASCIIDigit)
    }
}

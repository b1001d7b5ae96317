import AITBCDomain
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    /// The client's address: the peer's, or behind a trusted proxy the rightmost `X-Forwarded-For` entry
    /// that is not a trusted proxy (see ``TrustedProxies``). Nil when neither is known.
    func clientAddress(peer: SocketAddress?, proxies: TrustedProxies) -> IPAddress? {
        let peerAddress = peer.flatMap(IPAddress.init(socket:))
        // Most deployments trust no proxy: the header is not even read.
        if proxies.blocks.isEmpty, !proxies.trustsEveryPeer { return peerAddress }
        return proxies.client(peer: peerAddress, forwardedFor: headers[values: Self.forwardedFor])
    }
}

extension IPAddress {
    /// The address of an IP socket address (nil for a Unix domain socket).
    init?(socket: SocketAddress) {
        switch socket {
        case .v4(let address):
            self.init(ipv4: UInt32(bigEndian: address.address.sin_addr.s_addr))
        case .v6(let address):
            self.init(ipv6: withUnsafeBytes(of: address.address.sin6_addr) { Array($0) })
        case .unixDomainSocket:
            return nil
        }
    }
}

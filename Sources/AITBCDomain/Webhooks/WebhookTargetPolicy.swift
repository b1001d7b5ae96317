import Foundation

/// Where webhooks may be sent: `https` only in production, and never to an address inside this
/// deployment's network (loopback, private, link-local with the cloud metadata address, unspecified,
/// unique-local, multicast, and their IPv4-mapped forms) unless the operator allows private targets.
/// Checked at creation (the host's addresses then) and before each delivery (the address the
/// connection will use), so a name that later resolves inside (DNS rebinding) is still refused.
public struct WebhookTargetPolicy: Sendable {
    public var requireHTTPS: Bool
    public var allowPrivate: Bool

    public init(requireHTTPS: Bool, allowPrivate: Bool) {
        self.requireHTTPS = requireHTTPS
        self.allowPrivate = allowPrivate
    }

    /// The blocks no webhook may reach. IPv4 blocks cover the IPv4-mapped IPv6 forms too.
    static let forbidden: [CIDRBlock] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.168.0.0/16", "198.18.0.0/15", "224.0.0.0/4", "240.0.0.0/4",
        "::/128", "::1/128", "fc00::/7", "fe80::/10", "ff00::/8", "64:ff9b::/96",
    ].map { try! CIDRBlock(parsing: $0) }

    /// Whether `address` is inside the deployment's network (and so refused unless allowed).
    public static func isInternal(_ address: IPAddress) -> Bool {
        forbidden.contains { $0.contains(address) }
    }

    /// Whether a delivery may connect to `address`.
    public func permits(_ address: IPAddress) -> Bool {
        allowPrivate || !Self.isInternal(address)
    }

    /// The URL's host and port, or a 400 naming `url` when it is not an acceptable webhook URL.
    public func validate(url text: String) throws -> (host: String, port: Int) {
        guard text.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(),
            let host = url.host, !host.isEmpty
        else { throw CoordinatorError.invalidField("url", "url must be an absolute http(s) URL") }
        guard scheme == "https" || (scheme == "http" && !requireHTTPS) else {
            throw CoordinatorError.invalidField(
                "url", requireHTTPS ? "url must use https in production" : "url must use http or https")
        }
        guard url.user == nil, url.password == nil else {
            throw CoordinatorError.invalidField("url", "url must not carry credentials")
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard Self.isPlainHost(bare) else {
            throw CoordinatorError.invalidField(
                "url", "url's host must be an IP address or a name of ASCII letters, digits, '-', '_' and '.' (no percent-encoding)")
        }
        return (bare, url.port ?? (scheme == "https" ? 443 : 80))
    }

    /// Whether `host` (without IPv6 brackets) is an IP address or a name of ASCII letters, digits,
    /// `-`, `_` and `.`: a host that different URL parsers read alike. A percent-encoded or
    /// non-ASCII host could be read one way when the delivery pins its checked address and another
    /// when the HTTP client looks the pin up, and then be resolved again, unchecked.
    public static func isPlainHost(_ host: String) -> Bool {
        if IPAddress(host) != nil { return true }
        return !host.isEmpty
            && host.utf8.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }

    /// Refuses (400 naming `url`) when any of `addresses` is internal and that is not allowed, or there are none.
    public func check(_ addresses: [IPAddress]) throws {
        guard !addresses.isEmpty else { throw CoordinatorError.invalidField("url", "url's host does not resolve") }
        if let inside = addresses.first(where: { !permits($0) }) {
            throw CoordinatorError.invalidField("url", "url resolves to \(inside), an internal address webhooks may not reach")
        }
    }
}

/// Resolves a host name to the addresses a connection might use.
public protocol WebhookAddressResolver: Sendable {
    func addresses(host: String, port: Int) async throws -> [IPAddress]
}

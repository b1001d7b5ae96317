import AITBCDomain
import Testing

/// Addresses, CIDR blocks and the rule that finds the client behind trusted proxies.
@Suite struct TrustedProxiesTests {
    /// A literal address of these tests (each is checked to parse in the first test).
    static func ip(_ text: String) -> IPAddress { IPAddress(text) ?? IPAddress(high: .max, low: .max) }

    @Test func addressesParseAndPrintInCanonicalForm() throws {
        let cases: [(String, String)] = [
            ("192.0.2.1", "192.0.2.1"), ("0.0.0.0", "0.0.0.0"), ("255.255.255.255", "255.255.255.255"),
            ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"), ("2001:db8::1", "2001:db8::1"), ("::", "::"), ("::1", "::1"),
            ("1::", "1::"), ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"), ("2001:0db8:0000:0000:0000:ff00:0042:8329", "2001:db8::ff00:42:8329"),
            ("1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"), ("1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"),
            ("::ffff:192.0.2.1", "192.0.2.1"), ("::FFFF:c000:0201", "192.0.2.1"), ("64:ff9b::192.0.2.1", "64:ff9b::c000:201"),
        ]
        for (input, canonical) in cases {
            #expect(Self.ip(input).description == canonical, "\(input)")
        }
        // The IPv4-mapped form is the same address as the IPv4 one.
        #expect(Self.ip("::ffff:10.1.2.3") == Self.ip("10.1.2.3"))
        #expect(Self.ip("10.1.2.3").ipv4 == 0x0a01_0203)
        #expect(Self.ip("2001:db8::1").ipv4 == nil)
    }

    @Test func junkIsNotAnAddress() {
        for junk in [
            "", " ", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4", "1.2.3.-4", "1..2.3", "1.2.3.4 ", "a.b.c.d",
            ":", ":::", "1:::2", "1::2::3", ":1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "12345::",
            "g::1", "::1%eth0", "[::1]", "1.2.3.4:80", "::ffff:1.2.3", "1.2.3.4::", "+1::", "-1::", "1:2:3:4:5:6:7:8::",
            String(repeating: "1", count: 100), "unknown", "::ffff:1.2.3.4:5",
        ] {
            #expect(IPAddress(junk) == nil, "\(junk)")
        }
    }

    @Test func blocksMatchTheirAddressesAcrossIPv4AndItsMappedForm() throws {
        let ten = try CIDRBlock(parsing: "10.0.0.0/8")
        #expect(ten.description == "10.0.0.0/8")
        #expect(ten.contains(Self.ip("10.255.0.1")))
        #expect(ten.contains(Self.ip("::ffff:10.0.0.9")))
        #expect(!ten.contains(Self.ip("11.0.0.0")))
        #expect(!ten.contains(Self.ip("::a00:1")), "an IPv6 address with the same low bits is not in an IPv4 block")

        let host = try CIDRBlock(parsing: " 192.0.2.7 ")
        #expect(host.contains(Self.ip("192.0.2.7")) && !host.contains(Self.ip("192.0.2.8")))
        // Host bits are ignored.
        #expect(try CIDRBlock(parsing: "10.1.2.3/8") == ten)
        #expect(try CIDRBlock(parsing: "0.0.0.0/0").contains(Self.ip("203.0.113.1")))
        #expect(!(try CIDRBlock(parsing: "0.0.0.0/0").contains(Self.ip("2001:db8::1"))))

        let v6 = try CIDRBlock(parsing: "2001:db8:1::/48")
        #expect(v6.description == "2001:db8:1::/48")
        #expect(v6.contains(Self.ip("2001:db8:1:ffff::1")))
        #expect(!v6.contains(Self.ip("2001:db8:2::1")))
        #expect(try CIDRBlock(parsing: "::/0").contains(Self.ip("192.0.2.1")))
        let odd = try CIDRBlock(parsing: "2001:db8::/33")
        #expect(odd.contains(Self.ip("2001:db8:7fff::1")) && !odd.contains(Self.ip("2001:db8:8000::1")))
        let single = try CIDRBlock(parsing: "2001:db8::1/128")
        #expect(single.contains(Self.ip("2001:db8::1")) && !single.contains(Self.ip("2001:db8::2")))
        let mapped = try CIDRBlock(parsing: "::ffff:0:0/96")
        #expect(mapped.contains(Self.ip("198.51.100.1")) && !mapped.contains(Self.ip("::1")))
    }

    @Test func badBlocksAreRefusedWithTheReason() {
        for (junk, reason) in [
            ("10.0.0.0/33", "0 … 32"), ("2001:db8::/129", "0 … 128"), ("10.0.0.0/", "0 … 32"), ("10.0.0.0/-1", "0 … 32"),
            ("10.0.0.0/+8", "0 … 32"), ("10.0.0.0/8/8", "0 … 32"), ("proxy.internal", "not an IPv4 or IPv6"),
            ("", "not an IPv4 or IPv6"), ("10.0.0/8", "not an IPv4 or IPv6"),
        ] {
            #expect(throws: CIDRBlock.Invalid.self, "\(junk)") { try CIDRBlock(parsing: junk) }
            do {
                _ = try CIDRBlock(parsing: junk)
            } catch {
                #expect(error.description.contains(reason), "\(junk): \(error.description)")
                #expect(junk.isEmpty || error.description.contains(junk), "the message names the entry")
            }
        }
        #expect(throws: CIDRBlock.Invalid.self) { try TrustedProxies(parsing: "10.0.0.0/8, nonsense") }
        #expect((try? TrustedProxies(parsing: "10.0.0.0/8, ,2001:db8::/32,"))?.blocks.count == 2)
    }

    @Test func throttlesCountIPv6PerSlash64AndIPv4PerAddress() throws {
        #expect(Self.ip("2001:db8:1:2:aaaa::1").throttleKey == "2001:db8:1:2::/64")
        #expect(Self.ip("2001:db8:1:2:bbbb:cccc:dddd:eeee").throttleKey == "2001:db8:1:2::/64")
        #expect(Self.ip("2001:db8:1:3::1").throttleKey == "2001:db8:1:3::/64")
        #expect(Self.ip("192.0.2.1").throttleKey == "192.0.2.1")
        #expect(Self.ip("::ffff:192.0.2.1").throttleKey == "192.0.2.1")
    }

    @Test func theClientIsThePeerUnlessThePeerIsATrustedProxy() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8,2001:db8:ffff::/48")
        let outsider = Self.ip("198.51.100.7")
        // An untrusted peer's header is ignored, whatever it claims.
        #expect(proxies.client(peer: outsider, forwardedFor: ["1.1.1.1"]) == outsider)
        #expect(TrustedProxies().client(peer: outsider, forwardedFor: ["1.1.1.1"]) == outsider)
        #expect(TrustedProxies().client(peer: nil, forwardedFor: ["1.1.1.1"]) == nil)

        let proxy = Self.ip("10.0.0.2")
        // Behind a trusted proxy: the rightmost entry it did not trust, never what the client wrote to its left.
        #expect(proxies.client(peer: proxy, forwardedFor: ["6.6.6.6, 203.0.113.9"]) == Self.ip("203.0.113.9"))
        #expect(
            proxies.client(peer: proxy, forwardedFor: ["6.6.6.6, 203.0.113.9, 10.0.0.5", "10.9.9.9"])
                == Self.ip("203.0.113.9"))
        #expect(
            proxies.client(peer: Self.ip("::ffff:10.0.0.2"), forwardedFor: ["2001:db8::5, 2001:db8:ffff::1"])
                == Self.ip("2001:db8::5"))
        // Every hop trusted: the leftmost; no header: the proxy itself.
        #expect(proxies.client(peer: proxy, forwardedFor: ["10.1.1.1, 10.2.2.2"]) == Self.ip("10.1.1.1"))
        #expect(proxies.client(peer: proxy, forwardedFor: []) == proxy)
        // Ports and brackets some proxies add.
        #expect(proxies.client(peer: proxy, forwardedFor: ["203.0.113.9:4711"]) == Self.ip("203.0.113.9"))
        #expect(proxies.client(peer: proxy, forwardedFor: ["[2001:db8::9]:443"]) == Self.ip("2001:db8::9"))
        #expect(proxies.client(peer: proxy, forwardedFor: ["[2001:db8::9]"]) == Self.ip("2001:db8::9"))
        // Junk stops the walk at the trusted hop that passed it on.
        #expect(proxies.client(peer: proxy, forwardedFor: ["203.0.113.9, unknown"]) == proxy)
        #expect(proxies.client(peer: proxy, forwardedFor: ["203.0.113.9, garbage, 10.3.3.3"]) == Self.ip("10.3.3.3"))
        #expect(proxies.client(peer: proxy, forwardedFor: ["203.0.113.9,, "]) == Self.ip("203.0.113.9"))
    }

    @Test func trustingEveryPeerTakesTheRightmostEntryNotTheLeftmost() throws {
        let everyPeer = TrustedProxies(trustsEveryPeer: true)
        let peer = Self.ip("192.0.2.50")
        // The client chose the leftmost entry; the proxy appended the rightmost.
        #expect(everyPeer.client(peer: peer, forwardedFor: ["6.6.6.6, 203.0.113.9"]) == Self.ip("203.0.113.9"))
        #expect(everyPeer.client(peer: peer, forwardedFor: []) == peer)
        #expect(everyPeer.client(peer: nil, forwardedFor: ["203.0.113.9"]) == Self.ip("203.0.113.9"))
        // With a list as well, listed hops are skipped.
        let both = TrustedProxies(blocks: [try CIDRBlock(parsing: "10.0.0.0/8")], trustsEveryPeer: true)
        #expect(both.client(peer: peer, forwardedFor: ["6.6.6.6, 203.0.113.9, 10.0.0.1"]) == Self.ip("203.0.113.9"))
    }
}

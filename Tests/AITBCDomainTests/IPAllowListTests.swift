import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// Per-key allow-lists: what a list accepts, how it is written back, and the delegation rule over lists.
@Suite struct IPAllowListTests {
    static func ip(_ text: String) -> IPAddress? { IPAddress(text) }

    @Test func entriesAreStoredAndReturnedInCanonicalFormWithTheirPrefix() throws {
        let list = try IPAllowList(parsing: [
            "203.0.113.0/24", "2001:DB8::/32", "198.51.100.7", " 2001:db8:0:0::7 ", "::ffff:192.0.2.0/120", "203.0.113.0/24",
        ])
        #expect(list.entries == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32", "2001:db8::7/128", "192.0.2.0/24"])
        #expect(IPAllowList(stored: list.storedText) == list)
        #expect(IPAllowList(stored: nil) == nil)
        #expect(IPAllowList(stored: "") == nil)
    }

    @Test func hostBitsBeyondThePrefixAreRefusedNotWidened() {
        for entry in ["10.1.2.3/8", "203.0.113.1/24", "2001:db8::1/32", "::ffff:10.0.0.1/104"] {
            #expect(throws: IPAllowList.Invalid.self, "\(entry)") { try IPAllowList(parsing: [entry]) }
        }
        #expect((try? IPAllowList(parsing: ["10.0.0.0/8"]))?.entries == ["10.0.0.0/8"])
    }

    @Test func junkEmptyAndOverlongListsAreRefused() {
        for entries in [[""], ["nonsense"], ["1.2.3.4/33"], ["2001:db8::/129"], ["1.2.3.4/-1"], ["1.2.3.4/"], [], ["10.0.0.0/8", "x"]] {
            #expect(throws: IPAllowList.Invalid.self, "\(entries)") { try IPAllowList(parsing: entries) }
        }
        let hundred = (0..<100).map { "10.0.\($0).0/24" }
        #expect((try? IPAllowList(parsing: hundred))?.blocks.count == 100)
        #expect(throws: IPAllowList.Invalid.self) { try IPAllowList(parsing: hundred + ["10.1.0.0/24"]) }
    }

    @Test func aListAdmitsOnlyAddressesInsideItAndNeverAnUnknownOne() throws {
        let list = try IPAllowList(parsing: ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"])
        for inside in ["203.0.113.0", "203.0.113.255", "::ffff:203.0.113.9", "2001:db8::1", "2001:db8:ffff::1", "198.51.100.7"] {
            #expect(list.admits(Self.ip(inside)), "\(inside)")
        }
        for outside in ["203.0.114.0", "198.51.100.8", "2001:db9::1", "::1", "127.0.0.1"] {
            #expect(!list.admits(Self.ip(outside)), "\(outside)")
        }
        #expect(!list.admits(nil))
    }

    @Test func aListCoversOnlyListsWhoseEveryBlockLiesInsideOneOfItsOwn() throws {
        let own = try IPAllowList(parsing: ["203.0.113.0/24", "2001:db8::/32"])
        #expect(own.covers(try IPAllowList(parsing: ["203.0.113.128/25", "203.0.113.7", "2001:db8:1::/48"])))
        #expect(own.covers(own))
        #expect(!own.covers(try IPAllowList(parsing: ["203.0.0.0/16"])))
        #expect(!own.covers(try IPAllowList(parsing: ["203.0.113.0/25", "198.51.100.0/24"])))
        #expect(!own.covers(try IPAllowList(parsing: ["::/0"])))
    }

    @Test func aNarrowedCallerReachesNoUnrestrictedOrWiderKeyButMayRevokeOne() throws {
        let tenant = Tenant(id: "t", name: "T", plan: "pro", createdAt: Date(timeIntervalSince1970: 0))
        var key = APIKeyRecord(
            id: "key_a", tenantID: "t", name: "a", role: .master, scopes: nil, digest: APIKeyDigest(of: "a"), hint: "a",
            createdAt: Date(timeIntervalSince1970: 0))
        key.allowedIPs = try IPAllowList(parsing: ["203.0.113.0/24"])
        let caller = Principal(key: key, tenant: tenant, tenantLimit: 600)
        func reach(_ entries: [String]?) throws -> KeyReach {
            KeyReach(
                role: .client, permissions: Role.client.permissions, expiresAt: nil, rateLimitPerMinute: nil,
                allowedIPs: try entries.map { try IPAllowList(parsing: $0) })
        }
        for action in [KeyAction.create, .update, .regenerate] {
            #expect(caller.delegationGaps(to: try reach(nil), for: action) == ["allowed_ips"], "\(action)")
            #expect(caller.delegationGaps(to: try reach(["203.0.0.0/16"]), for: action) == ["allowed_ips"], "\(action)")
            #expect(caller.delegationGaps(to: try reach(["203.0.113.64/26"]), for: action).isEmpty, "\(action)")
        }
        #expect(caller.delegationGaps(to: try reach(nil), for: .revoke).isEmpty)
        // A caller with no list of its own may give any list, or none.
        key.allowedIPs = nil
        let unrestricted = Principal(key: key, tenant: tenant, tenantLimit: 600)
        #expect(unrestricted.delegationGaps(to: try reach(nil), for: .create).isEmpty)
        #expect(unrestricted.delegationGaps(to: try reach(["0.0.0.0/0"]), for: .update).isEmpty)
    }
}

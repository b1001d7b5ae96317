import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Per-key IP allow-lists over HTTP (DESIGN §4a): admitted from inside, 403 `IP_NOT_ALLOWED` from
/// outside (the client address as the trusted-proxy rule finds it), refusals cost no budget, changes
/// apply from the next request, and a narrowed key cannot mint a wider one.
@Suite struct AllowListTests {
    static let list = #", "allowed_ips": ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]"#

    /// `/v1/me` with `key` from `address` (the harness trusts every peer's `X-Forwarded-For`).
    static func me(_ client: some TestClientProtocol, _ key: String, from address: String?) async throws -> Reply {
        try await client.send(.get, "/v1/me", key: key, from: address)
    }

    static func expectRefused(_ reply: Reply, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reply.status == .forbidden, "\(what): \(reply.text)", sourceLocation: sourceLocation)
        #expect(reply.errorCode == "IP_NOT_ALLOWED", "\(what)", sourceLocation: sourceLocation)
        // The answer never tells a caller outside the list where the key works: it names only the
        // caller's own address.
        let message = reply.json["error"]?["message"]?.stringValue ?? ""
        #expect(!message.contains("203.0.113") && !message.contains("2001:db8") && !message.contains("/"), "\(what)", sourceLocation: sourceLocation)
        #expect(reply.json["error"]?["details"]?.objectValue?.keys.sorted() == ["client_address"], "\(what)", sourceLocation: sourceLocation)
    }

    @Test func aKeyWithAListIsAdmittedFromInsideAndRefusedFromOutsideOnIPv4AndIPv6() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let created = try await client.createKey(using: Harness.masterKey, extra: Self.list)
            #expect(created.allowedIPs == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"])
            let secret = try created.secret()
            for inside in ["203.0.113.9", "2001:db8::1", "2001:db8:ffff::42", "198.51.100.7", "6.6.6.6, 203.0.113.200"] {
                let reply = try await Self.me(client, secret, from: inside)
                #expect(reply.status == .ok, "\(inside): \(reply.text)")
                #expect(reply.json["allowed_ips"] == ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7/32"])
            }
            for outside in ["198.51.100.8", "203.0.114.1", "2001:db9::1", "::1", "203.0.113.9, 192.0.2.1"] {
                let reply = try await Self.me(client, secret, from: outside)
                Self.expectRefused(reply, outside)
                let client = outside.split(separator: ",").last.map { String($0.trimmingCharacters(in: .whitespaces)) }
                #expect(reply.json["error"]?["details"]?["client_address"]?.stringValue == client, "\(outside)")
                // Refused before any budget was asked: no budget state goes to an outside caller.
                #expect(reply.header("X-RateLimit-Remaining") == nil && reply.header("RateLimit") == nil, "\(outside)")
            }
            // No address at all (the router driver has no peer): refused, since the key has a list.
            let unknown = try await Self.me(client, secret, from: nil)
            Self.expectRefused(unknown, "unknown address")
            #expect(unknown.json["error"]?["details"]?["client_address"] == .null)
            // Keys without a list are not affected.
            #expect(try await Self.me(client, Harness.clientKey, from: nil).status == .ok)
            // The list is stored: read back from storage, and enforced from it once the cache is gone.
            let stored = try await client.send(.get, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(try stored.decode(APIKeyView.self).allowedIPs == created.allowedIPs)
            harness.coordinator.authenticator.forgetAll()
            Self.expectRefused(try await Self.me(client, secret, from: "192.0.2.1"), "after the cache was emptied")
            #expect(try await Self.me(client, secret, from: "203.0.113.1").status == .ok)
        }
    }

    @Test func aRefusedRequestSpendsNoBudgetAndIsCountedAsAnError() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            let created = try await client.createKey(
                using: Harness.masterKey, extra: #", "rate_limit_per_minute": 10, "allowed_ips": ["203.0.113.0/24"]"#)
            let secret = try created.secret()
            let first = try await Self.me(client, secret, from: "203.0.113.1")
            #expect(first.status == .ok)
            let remaining = try #require(first.header("X-RateLimit-Remaining").flatMap { Int($0) })
            // Far more refusals than either budget holds; the clock stands still, so nothing refills.
            for index in 0..<70 {
                Self.expectRefused(try await Self.me(client, secret, from: "198.51.100.\(index + 1)"), "outside \(index)")
            }
            // A second later, so this use is the last one whether or not the first was flushed; the budgets
            // refill by one request's worth of the key's 10 a minute only after 6 s.
            harness.clock.advance(by: 1)
            let next = try await Self.me(client, secret, from: "203.0.113.2")
            #expect(next.status == .ok, "\(next.text)")
            #expect(next.header("X-RateLimit-Remaining") == String(remaining - 1))
            let usage = try await client.send(.get, "/v1/api-keys/\(created.keyID)/usage", key: Harness.masterKey)
            #expect(usage.json["totals"]?["errors"]?.doubleValue == 70, "\(usage.text)")
            #expect(usage.json["totals"]?["admitted"]?.doubleValue == 2)
            // The last use is the last admitted request, not a refused one.
            #expect(usage.json["last_used_from"] == "203.0.113.2")
        }
    }

    @Test func throughATrustedProxyTheAddressItAppendedDecides() async throws {
        let harness = try await Harness.make { settings in
            settings.trustForwardedFor = false
            settings.trustedProxies = (try? TrustedProxies(parsing: "127.0.0.1/32,::1/128"))?.blocks ?? []
        }
        try await harness.testLive { client in
            let secret = try await client.createKey(using: Harness.masterKey, extra: Self.list).secret()
            for inside in ["203.0.113.5", "2001:db8::5", "10.9.9.9, 198.51.100.7"] {
                #expect(try await Self.me(client, secret, from: inside).status == .ok, "\(inside)")
            }
            // A client behind the proxy writing an allowed address to the left of what the proxy appended.
            for outside in ["203.0.113.5, 192.0.2.1", "2001:db8::5, 2001:db9::1", "192.0.2.1"] {
                Self.expectRefused(try await Self.me(client, secret, from: outside), outside)
            }
            // Straight from the proxy with no header: the proxy itself is the client, and it is not listed.
            Self.expectRefused(try await Self.me(client, secret, from: nil), "the proxy itself")
        }
    }

    @Test func anUntrustedPeerCannotForgeXForwardedForIntoTheList() async throws {
        let harness = try await Harness.make { settings in
            settings.trustForwardedFor = false
            settings.trustedProxies = (try? TrustedProxies(parsing: "10.0.0.0/8"))?.blocks ?? []
        }
        try await harness.testLive { client in
            // The peer is 127.0.0.1, no trusted proxy: what it writes in X-Forwarded-For is not believed.
            let listed = try await client.createKey(using: Harness.masterKey, extra: #", "allowed_ips": ["203.0.113.0/24"]"#)
            Self.expectRefused(try await Self.me(client, try listed.secret(), from: "203.0.113.5"), "forged")
            let loopback = try await client.createKey(using: Harness.masterKey, extra: #", "allowed_ips": ["127.0.0.1"]"#)
            #expect(try await Self.me(client, try loopback.secret(), from: "192.0.2.1").status == .ok)
        }
    }

    @Test func theRefusalIsInTheRequestLogWithTheKeyAndTheAddress() async throws {
        let captured = CapturedLog()
        let logger = Logger(label: "aitbc.test", factory: { captured.handler(label: $0) })
        let harness = try await Harness.make(logger: logger, configure: { $0.logLevel = .info })
        let keyID = Mutex("")
        try await harness.application(logger: logger).test(.router) { client in
            let created = try await client.createKey(using: Harness.masterKey, extra: #", "allowed_ips": ["203.0.113.0/24"]"#)
            keyID.withLock { $0 = created.keyID }
            Self.expectRefused(try await Self.me(client, try created.secret(), from: "192.0.2.77"), "outside")
        }
        await harness.close()
        let line = captured.text.split(separator: "\n").first { $0.contains("IP_NOT_ALLOWED") }
        let refusal = try #require(line, "no request log line names the refusal: \(captured.text)")
        #expect(refusal.contains("403"))
        #expect(refusal.contains("192.0.2.77") && refusal.contains(keyID.withLock { $0 }))
    }

    @Test func aChangedListTakesEffectOnTheNextRequestAndIsAudited() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            #expect(created.allowedIPs == nil)
            let secret = try created.secret()
            #expect(try await Self.me(client, secret, from: "192.0.2.1").status == .ok)
            let path = "/v1/api-keys/\(created.keyID)"

            let narrowed = try await client.send(
                .patch, path, key: Harness.masterKey, json: #"{"allowed_ips": ["203.0.113.0/24", "2001:DB8::/32"]}"#)
            #expect(narrowed.status == .ok, "\(narrowed.text)")
            #expect(try narrowed.decode(APIKeyView.self).allowedIPs == ["203.0.113.0/24", "2001:db8::/32"])
            Self.expectRefused(try await Self.me(client, secret, from: "192.0.2.1"), "right after the change")
            #expect(try await Self.me(client, secret, from: "203.0.113.1").status == .ok)

            // A change of other fields keeps the list.
            let renamed = try await client.send(.patch, path, key: Harness.masterKey, json: #"{"name": "renamed"}"#)
            #expect(try renamed.decode(APIKeyView.self).allowedIPs == ["203.0.113.0/24", "2001:db8::/32"])

            for clearing in [#"{"allowed_ips": null}"#, #"{"allowed_ips": []}"#] {
                let cleared = try await client.send(.patch, path, key: Harness.masterKey, json: clearing)
                #expect(cleared.status == .ok, "\(clearing): \(cleared.text)")
                #expect(cleared.json["allowed_ips"] == .null)
                #expect(try await Self.me(client, secret, from: "192.0.2.1").status == .ok, "\(clearing)")
                _ = try await client.send(.patch, path, key: Harness.masterKey, json: #"{"allowed_ips": ["203.0.113.0/24"]}"#)
                Self.expectRefused(try await Self.me(client, secret, from: "192.0.2.1"), "narrowed again")
            }

            let events = try await client.send(.get, "/v1/audit-events?limit=100", key: Harness.masterKey)
            let updates = (events.json["items"]?.arrayValue ?? []).filter {
                $0["type"] == "api_key.updated" && $0["target_id"]?.stringValue == created.keyID
            }
            let recorded = updates.compactMap { $0["data"]?["allowed_ips"] }
            #expect(recorded.contains(["203.0.113.0/24", "2001:db8::/32"]))
            #expect(recorded.contains(.null))
        }
    }

    @Test func aNarrowedCreatorCannotMintAnUnrestrictedOrWiderKey() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let narrowed = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "allowed_ips": ["203.0.113.0/24"]"#)
            let secret = try narrowed.secret()
            let inside = "203.0.113.10"
            func create(_ extra: String) async throws -> Reply {
                try await client.send(
                    .post, "/v1/api-keys", key: secret, json: #"{"name": "child", "role": "client"\#(extra)}"#, from: inside)
            }
            for wider in [#", "allowed_ips": []"#, #", "allowed_ips": ["203.0.0.0/16"]"#,
                          #", "allowed_ips": ["203.0.113.0/25", "198.51.100.0/24"]"#, #", "allowed_ips": ["::/0"]"#] {
                let reply = try await create(wider)
                #expect(reply.status == .forbidden, "\(wider): \(reply.text)")
                #expect(reply.errorCode == "INSUFFICIENT_SCOPE")
                #expect(reply.json["error"]?["details"]?["missing"] == ["allowed_ips"], "\(wider)")
            }
            // Left out, the creator's list is inherited; a narrower one is granted.
            let inherited = try await create("")
            #expect(inherited.status == .created, "\(inherited.text)")
            #expect(try inherited.decode(APIKeyView.self).allowedIPs == ["203.0.113.0/24"])
            let narrower = try await create(#", "allowed_ips": ["203.0.113.128/25"]"#)
            #expect(narrower.status == .created, "\(narrower.text)")
            let child = try narrower.decode(APIKeyView.self)

            // Nor can it widen or clear a key by changing it, nor change a key that is unrestricted.
            for change in [#"{"allowed_ips": null}"#, #"{"allowed_ips": ["0.0.0.0/0"]}"#] {
                let reply = try await client.send(.patch, "/v1/api-keys/\(child.keyID)", key: secret, json: change, from: inside)
                #expect(reply.status == .forbidden, "\(change): \(reply.text)")
                #expect(reply.json["error"]?["details"]?["missing"] == ["allowed_ips"])
            }
            let unrestricted = try await client.createKey(using: Harness.masterKey)
            let reply = try await client.send(
                .patch, "/v1/api-keys/\(unrestricted.keyID)", key: secret, json: #"{"name": "x"}"#, from: inside)
            #expect(reply.status == .forbidden && reply.errorCode == "INSUFFICIENT_SCOPE", "\(reply.text)")
            let regenerate = try await client.send(
                .post, "/v1/api-keys/\(unrestricted.keyID)/regenerate", key: secret, from: inside)
            #expect(regenerate.status == .forbidden, "\(regenerate.text)")

            // Each refusal wrote the delegation audit event naming what was missing.
            let events = try await client.send(.get, "/v1/audit-events?limit=100", key: Harness.masterKey)
            let refusals = (events.json["items"]?.arrayValue ?? []).filter {
                $0["type"] == "api_key.delegation_refused" && $0["actor_key_id"]?.stringValue == narrowed.keyID
            }
            #expect(refusals.count == 8, "\(refusals)")
            #expect(refusals.allSatisfy { $0["data"]?["missing"]?.arrayValue?.contains("allowed_ips") == true })

            // Regeneration keeps the list.
            let regenerated = try await client.send(
                .post, "/v1/api-keys/\(child.keyID)/regenerate", key: secret, from: inside)
            #expect(regenerated.status == .ok, "\(regenerated.text)")
            let renewed = try regenerated.decode(APIKeyView.self)
            #expect(renewed.allowedIPs == ["203.0.113.128/25"])
            Self.expectRefused(try await Self.me(client, try renewed.secret(), from: inside), "the new secret, outside /25")
            #expect(try await Self.me(client, try renewed.secret(), from: "203.0.113.200").status == .ok)
        }
    }

    @Test func invalidListsAreRefusedWith400NamingTheField() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let key = try await client.createKey(using: Harness.masterKey)
            let tooMany = "[" + (0...100).map { "\"10.0.\($0).0/24\"" }.joined(separator: ",") + "]"
            for list in [#"["10.1.2.3/8"]"#, #"["nonsense"]"#, #"["1.2.3.4/33"]"#, #"[""]"#, #"["2001:db8::1/32"]"#, tooMany] {
                let created = try await client.send(
                    .post, "/v1/api-keys", key: Harness.masterKey, json: #"{"name": "x", "role": "client", "allowed_ips": \#(list)}"#)
                let patched = try await client.send(
                    .patch, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey, json: #"{"allowed_ips": \#(list)}"#)
                for reply in [created, patched] {
                    #expect(reply.status == .badRequest, "\(list.prefix(40)): \(reply.text)")
                    #expect(reply.errorCode == "INVALID_REQUEST")
                    #expect(reply.json["error"]?["details"]?["field"] == "allowed_ips", "\(reply.text)")
                }
            }
            let hostBits = try await client.send(
                .patch, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey, json: #"{"allowed_ips": ["10.1.2.3/8"]}"#)
            #expect(hostBits.json["error"]?["message"]?.stringValue?.contains("10.0.0.0/8") == true, "\(hostBits.text)")
            let unchanged = try await client.send(.get, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey)
            #expect(unchanged.json["allowed_ips"] == .null)
        }
    }

    @Test func anotherTenantsMasterCannotSeeOrChangeTheList() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let key = try await client.createKey(using: Harness.masterKey, extra: #", "allowed_ips": ["203.0.113.0/24"]"#)
            let other = try await client.createTenant("acme")
            let otherMaster = try #require(other.masterKey?.apiKey)
            for body in [#"{"allowed_ips": null}"#, #"{"allowed_ips": ["0.0.0.0/0"]}"#] {
                let reply = try await client.send(.patch, "/v1/api-keys/\(key.keyID)", key: otherMaster, json: body)
                #expect(reply.status == .notFound, "\(reply.text)")
                #expect(reply.errorCode == "KEY_NOT_FOUND")
            }
            let unchanged = try await client.send(.get, "/v1/api-keys/\(key.keyID)", key: Harness.masterKey)
            #expect(unchanged.json["allowed_ips"] == ["203.0.113.0/24"])
        }
    }
}

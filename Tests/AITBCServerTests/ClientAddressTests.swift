import AITBCDomain
import AITBCServer
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The client address behind proxies: only trusted peers' `X-Forwarded-For` counts, the entry the proxy
/// appended decides (never the client's own), and throttles count an IPv6 client per /64.
@Suite struct ClientAddressTests {
    /// A wrong key per request; each is a guess the failure budget counts.
    static func wrongKey(_ index: Int) -> String { "aitbc_client_wrong\(index)" }

    /// The id of the harness's development client key.
    static func clientKeyID(_ harness: Harness) async throws -> String {
        try #require(try await harness.coordinator.store.key(matching: APIKeyDigest(of: Harness.clientKey))).id
    }

    @Test func wrongKeysThroughATrustedProxyAreThrottledByTheAddressTheProxyAppended() async throws {
        let harness = try await Harness.make { settings in
            settings.trustForwardedFor = false
            settings.trustedProxies = (try? TrustedProxies(parsing: "127.0.0.1/32,::1/128"))?.blocks ?? []
        }
        #expect(harness.settings.trustedProxies.count == 2)
        try await harness.testLive { client in
            // Known before the flood: a valid key in use keeps working from a throttled address.
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey).status == .ok)
            // The issue's attack: one client behind the proxy, a different leftmost entry of its own each time.
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<120 {
                let forged = "198.18.\(index / 200).\(index % 200 + 1)"
                let reply = try await client.send(.get, "/v1/me", key: Self.wrongKey(index), from: "\(forged), 203.0.113.77")
                statuses.append(reply.status)
            }
            let failures = harness.settings.authFailuresPerMinute
            #expect(statuses.prefix(failures).allSatisfy { $0 == .unauthorized })
            #expect(statuses.dropFirst(failures).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")

            // Another client behind the same proxy is not affected.
            let other = try await client.send(.get, "/v1/me", key: Self.wrongKey(0), from: "198.51.100.1")
            #expect(other.status == .unauthorized)
            // The throttled client's valid key still works, and is recorded as used from the appended address.
            // A second later, so this use is the last one whether or not the earlier one was flushed.
            harness.clock.advance(by: 1)
            let valid = try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "6.6.6.6, 203.0.113.77")
            #expect(valid.status == .ok)
            let key = try await client.send(.get, "/v1/api-keys/\(try await Self.clientKeyID(harness))", key: Harness.masterKey)
            #expect(key.json["last_used_from"]?.stringValue == "203.0.113.77")
        }
    }

    @Test func theOlderSwitchTakesTheRightmostEntrySoTheAttackIsThrottledToo() async throws {
        // The harness sets AITBC_TRUST_PROXY_HEADERS=true (every peer a proxy).
        let harness = try await Harness.make()
        #expect(harness.settings.trustForwardedFor && harness.settings.trustedProxies.isEmpty)
        try await harness.test { client in
            var refused = 0
            for index in 0..<120 {
                let reply = try await client.send(
                    .get, "/v1/me", key: Self.wrongKey(index), from: "198.18.0.\(index + 1), 203.0.113.77")
                if reply.status == .tooManyRequests { refused += 1 }
            }
            #expect(refused == 120 - harness.settings.authFailuresPerMinute)
            #expect(try await client.send(.get, "/v1/me", key: Self.wrongKey(0), from: "198.51.100.1").status == .unauthorized)
        }
    }

    @Test func aSpoofedForwardedForFromAnUntrustedPeerIsIgnored() async throws {
        let harness = try await Harness.make { settings in
            settings.trustForwardedFor = false
            settings.trustedProxies = (try? TrustedProxies(parsing: "10.0.0.0/8"))?.blocks ?? []
        }
        try await harness.testLive { client in
            for key in [Harness.clientKey, Harness.masterKey] {
                #expect(try await client.send(.get, "/v1/me", key: key).status == .ok)
            }
            // Each request claims another address; all come from 127.0.0.1, which is no trusted proxy.
            var statuses: [HTTPResponse.Status] = []
            for index in 0..<40 {
                let reply = try await client.send(.get, "/v1/me", key: Self.wrongKey(index), from: "198.18.1.\(index + 1)")
                statuses.append(reply.status)
            }
            let failures = harness.settings.authFailuresPerMinute
            #expect(statuses.prefix(failures).allSatisfy { $0 == .unauthorized })
            #expect(statuses.dropFirst(failures).allSatisfy { $0 == .tooManyRequests }, "\(statuses)")

            // A second later, so this use is the last one whether or not the earlier one was flushed.
            harness.clock.advance(by: 1)
            let valid = try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "6.6.6.6")
            #expect(valid.status == .ok)
            let key = try await client.send(.get, "/v1/api-keys/\(try await Self.clientKeyID(harness))", key: Harness.masterKey)
            #expect(key.json["last_used_from"]?.stringValue == "127.0.0.1")
        }
    }

    @Test func ipv6AddressesOfOneSlash64ShareTheFailureThrottle() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey).status == .ok)
            let failures = harness.settings.authFailuresPerMinute
            for index in 0..<failures {
                let reply = try await client.send(
                    .get, "/v1/me", key: Self.wrongKey(index), from: "2001:db8:1:2:\(String(index + 1, radix: 16))::1")
                #expect(reply.status == .unauthorized)
            }
            // A fresh address of the same /64 is the same client; the next /64 is another one.
            let same = try await client.send(.get, "/v1/me", key: Self.wrongKey(99), from: "2001:db8:1:2:ffff:ffff:ffff:ffff")
            #expect(same.status == .tooManyRequests)
            #expect(same.errorCode == "RATE_LIMIT_EXCEEDED")
            let next = try await client.send(.get, "/v1/me", key: Self.wrongKey(99), from: "2001:db8:1:3::1")
            #expect(next.status == .unauthorized)
            // A valid key from the throttled /64 still works, and keeps its full address for "last used from".
            harness.clock.advance(by: 1)
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey, from: "2001:DB8:1:2::abcd").status == .ok)
            let key = try await client.send(.get, "/v1/api-keys/\(try await Self.clientKeyID(harness))", key: Harness.masterKey)
            #expect(key.json["last_used_from"]?.stringValue == "2001:db8:1:2::abcd")
        }
    }

    @Test func ipv6AddressesOfOneSlash64ShareTheSignInThrottle() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            var statuses: [HTTPResponse.Status] = []
            for index in 0...AccountService.attemptsPerAddressPerMinute {
                let browser = DashboardBrowser(client, address: "2001:db8:aa:bb:\(String(index + 1, radix: 16))::7")
                statuses.append(try await browser.signIn("user\(index)@example.com").status)
            }
            #expect(statuses.dropLast().allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
            let elsewhere = DashboardBrowser(client, address: "2001:db8:aa:bc::7")
            #expect(try await elsewhere.signIn("someone@example.com").status == .unauthorized)
        }
    }

    @Test func proxySettingsAreParsedAndJunkIsRefusedWithTheEntryNamed() throws {
        let settings = try CoordinatorSettings.fromEnvironment(["AITBC_TRUSTED_PROXIES": "10.0.0.0/8, 2001:db8::/32,192.0.2.7"])
        #expect(settings.trustedProxies.map(\.description) == ["10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32"])
        #expect(!settings.proxies.trustsEveryPeer)
        #expect(try CoordinatorSettings.fromEnvironment(["AITBC_TRUST_PROXY_HEADERS": "true"]).proxies.trustsEveryPeer)
        for junk in ["10.0.0.0/33", "proxy.internal", "10.0.0.0/8;10.1.0.0/16", "2001:db8::/200"] {
            do {
                _ = try CoordinatorSettings.fromEnvironment(["AITBC_TRUSTED_PROXIES": junk])
                Issue.record("\(junk) was accepted")
            } catch let error as CoordinatorSettings.Invalid {
                #expect(error.description.hasPrefix("AITBC_TRUSTED_PROXIES: "), "\(error)")
            }
        }
        for environment in [
            ["AITBC_PASSWORD_HASH_THREADS": "0"], ["AITBC_PASSWORD_HASH_THREADS": "many"],
            ["AITBC_PASSWORD_HASH_QUEUE": "-1"], ["AITBC_PASSWORD_HASH_QUEUE": "100000"],
        ] {
            #expect(throws: CoordinatorSettings.Invalid.self, "\(environment)") {
                try CoordinatorSettings.fromEnvironment(environment)
            }
        }
        let hashing = try CoordinatorSettings.fromEnvironment(["AITBC_PASSWORD_HASH_THREADS": "2", "AITBC_PASSWORD_HASH_QUEUE": "0"])
        #expect(hashing.passwordHashThreads == 2 && hashing.passwordHashQueue == 0)
        let defaults = CoordinatorSettings()
        #expect(defaults.passwordHashThreads == 1 && defaults.passwordHashQueue == 16 && defaults.trustedProxies.isEmpty)
    }
}

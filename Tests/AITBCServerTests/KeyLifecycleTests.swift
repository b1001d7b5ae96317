import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Creating, listing, revoking, regenerating and expiring keys.
@Suite struct KeyLifecycleTests {
    @Test func createdKeyHasTheGeneratedFormatAndWorks() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey, name: "ci", role: "client")
            let secret = try #require(created.apiKey)
            #expect(secret.hasPrefix("aitbc_client_"))
            #expect(APIKeyFormat.shape(of: secret) == .wellFormed(.client))
            #expect(created.keyID.hasPrefix("key_"))
            #expect(created.hint == "aitbc_client_…" + String(secret.suffix(4)))
            #expect(created.status == "active")
            let me = try await client.send(.get, "/v1/me", key: secret)
            #expect(me.status == .ok)
            #expect(me.json["key_id"]?.stringValue == created.keyID)
        }
    }

    @Test func secretIsShownOnlyAtCreation() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let secret = try #require(created.apiKey)
            let one = try await client.send(.get, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(one.status == .ok)
            #expect(one.json["api_key"] == nil)
            #expect(!one.text.contains(secret))
            let list = try await client.send(.get, "/v1/api-keys", key: Harness.masterKey)
            #expect(!list.text.contains(secret))
            #expect(!list.text.contains("\"api_key\""))
        }
    }

    @Test func listIsNewestFirstAndFollowsCursors() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            var created: [String] = []
            for index in 0..<5 {
                harness.clock.advance(by: 1)
                created.append(try await client.createKey(using: Harness.masterKey, name: "k\(index)").keyID)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let uri = "/v1/api-keys?limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await client.send(.get, uri, key: Harness.masterKey).decode(Page<APIKeyView>.self)
                #expect(page.items.count <= 2)
                seen += page.items.map(\.keyID)
                cursor = page.nextCursor
            } while cursor != nil
            // Five created keys, newest first, then the four development keys.
            #expect(Array(seen.prefix(5)) == created.reversed())
            #expect(seen.count == 9)
            #expect(Set(seen).count == 9)
        }
    }

    @Test func revokedKeyIsRejectedByTheVeryNextRequest() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let secret = try #require(created.apiKey)
            #expect(try await client.send(.get, "/v1/me", key: secret).status == .ok)
            let revoke = try await client.send(.delete, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(revoke.status == .ok)
            #expect(revoke.json["status"] == "revoked")
            let after = try await client.send(.get, "/v1/me", key: secret)
            #expect(after.status == .unauthorized)
            #expect(after.errorCode == "API_KEY_REVOKED")
        }
    }

    @Test func revokeIsIdempotent() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let first = try await client.send(.delete, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            let second = try await client.send(.delete, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(first.status == .ok)
            #expect(second.status == .ok)
            #expect(first.json["revoked_at"] == second.json["revoked_at"])
        }
    }

    @Test func lastActiveMasterKeyCannotBeRevoked() async throws {
        try await Harness.make().test { client in
            let tenant = try await client.createTenant("acme")
            let master = try #require(tenant.masterKey)
            let secret = try #require(master.apiKey)
            let refused = try await client.send(.delete, "/v1/api-keys/\(master.keyID)", key: secret)
            #expect(refused.status == .conflict)
            #expect(refused.errorCode == "LAST_MASTER_KEY")
            // With a second master key the first may go.
            let second = try await client.createKey(using: secret, name: "second master", role: "master")
            let allowed = try await client.send(.delete, "/v1/api-keys/\(master.keyID)", key: try second.secret())
            #expect(allowed.status == .ok)
            let again = try await client.send(.delete, "/v1/api-keys/\(second.keyID)", key: try second.secret())
            #expect(again.errorCode == "LAST_MASTER_KEY")
        }
    }

    @Test func regenerateWithoutGraceStopsTheOldSecretAtOnce() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let old = try #require(created.apiKey)
            #expect(try await client.send(.get, "/v1/me", key: old).status == .ok)
            let regenerated = try await client.send(
                .post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey)
            #expect(regenerated.status == .ok)
            let new = try #require(regenerated.json["api_key"]?.stringValue)
            #expect(new != old)
            #expect(regenerated.json["key_id"]?.stringValue == created.keyID)
            #expect(try await client.send(.get, "/v1/me", key: old).errorCode == "INVALID_API_KEY")
            #expect(try await client.send(.get, "/v1/me", key: new).status == .ok)
        }
    }

    @Test func regenerateWithGraceKeepsBothSecretsUntilTheGraceEnds() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            let old = try #require(created.apiKey)
            let regenerated = try await client.send(
                .post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey,
                json: #"{"grace_period_seconds": 3600}"#)
            #expect(regenerated.status == .ok)
            let new = try #require(regenerated.json["api_key"]?.stringValue)
            #expect(regenerated.json["previous_secret_valid_until"]?.stringValue != nil)
            harness.clock.advance(by: 3599)
            #expect(try await client.send(.get, "/v1/me", key: old).status == .ok)
            #expect(try await client.send(.get, "/v1/me", key: new).status == .ok)
            harness.clock.advance(by: 1)
            #expect(try await client.send(.get, "/v1/me", key: old).errorCode == "INVALID_API_KEY")
            #expect(try await client.send(.get, "/v1/me", key: new).status == .ok)
        }
    }

    @Test func gracePeriodIsBoundedToSevenDays() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            for grace in ["-1", "604801"] {
                let reply = try await client.send(
                    .post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey,
                    json: #"{"grace_period_seconds": \#(grace)}"#)
                #expect(reply.status == .badRequest)
                #expect(reply.json["error"]?["details"]?["field"] == "grace_period_seconds")
            }
            let max = try await client.send(
                .post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey,
                json: #"{"grace_period_seconds": 604800}"#)
            #expect(max.status == .ok)
        }
    }

    @Test func revokedKeyCannotBeRegenerated() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey)
            _ = try await client.send(.delete, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            let reply = try await client.send(.post, "/v1/api-keys/\(created.keyID)/regenerate", key: Harness.masterKey)
            #expect(reply.status == .conflict)
            #expect(reply.errorCode == "CONFLICT_STATE")
        }
    }

    @Test func keyExpiresExactlyAtItsExpiry() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let expiry = harness.clock.now().addingTimeInterval(600)
            let created = try await client.createKey(
                using: Harness.masterKey, extra: #", "expires_at": "\#(RFC3339.string(from: expiry))""#)
            let secret = try #require(created.apiKey)
            #expect(created.expiresAt == expiry)
            harness.clock.advance(by: 599)
            #expect(try await client.send(.get, "/v1/me", key: secret).status == .ok)
            harness.clock.advance(by: 1)
            let expired = try await client.send(.get, "/v1/me", key: secret)
            #expect(expired.status == .unauthorized)
            #expect(expired.errorCode == "API_KEY_EXPIRED")
            let view = try await client.send(.get, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
            #expect(view.json["status"] == "expired")
        }
    }

    @Test func scopedKeyHoldsOnlyItsScopes() async throws {
        try await Harness.make().test { client in
            let readOnly = try await client.createKey(
                using: Harness.masterKey, role: "client", extra: #", "scopes": ["jobs:read"]"#)
            let secret = try #require(readOnly.apiKey)
            #expect(readOnly.scopes == ["jobs:read"])
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            let me = try await client.send(.get, "/v1/me", key: secret)
            #expect(me.json["scopes"] == .array(["jobs:read"]))
            // Its role would let it submit; its scopes do not, and nothing is written.
            let submit = try await client.send(.post, "/v1/jobs", key: secret, json: #"{"payload": {"prompt": "x"}}"#)
            #expect(submit.status == .forbidden)
            #expect(submit.errorCode == "INSUFFICIENT_SCOPE")
            #expect(submit.json["error"]?["details"]?["missing"] == .array(["jobs:write"]))
            let jobs = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(jobs.status == .ok)
            #expect(jobs.json["items"] == .array([]))
            // A queued job it can read but not cancel.
            let queued = try await client.send(
                .post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"prompt": "y"}}"#)
            let jobID = try #require(queued.json["job_id"]?.stringValue)
            let cancel = try await client.send(.post, "/v1/jobs/\(jobID)/cancel", key: secret)
            #expect(cancel.status == .forbidden)
            #expect(cancel.json["error"]?["details"]?["missing"] == .array(["jobs:write"]))
            let after = try await client.send(.get, "/v1/jobs/\(jobID)", key: secret)
            #expect(after.status == .ok)
            #expect(after.json["state"] == "QUEUED")
            // A restricted master cannot mint a key with more than it holds.
            let restricted = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "scopes": ["keys:read", "keys:write"]"#)
            let escalate = try await client.send(
                .post, "/v1/api-keys", key: try restricted.secret(), json: #"{"name": "x", "role": "client"}"#)
            #expect(escalate.status == .forbidden)
            #expect(escalate.errorCode == "INSUFFICIENT_SCOPE")
        }
    }

    @Test func masterCannotCreateOrTouchOperatorKeys() async throws {
        try await Harness.make().test { client in
            let create = try await client.send(
                .post, "/v1/api-keys", key: Harness.masterKey, json: #"{"name": "x", "role": "operator"}"#)
            #expect(create.errorCode == "INSUFFICIENT_SCOPE")
            let revoke = try await client.send(.delete, "/v1/api-keys/key_dev_operator", key: Harness.masterKey)
            #expect(revoke.errorCode == "INSUFFICIENT_SCOPE")
        }
    }

    @Test func metadataAndPerKeyLimitRoundTrip() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(
                using: Harness.masterKey,
                extra: #", "rate_limit_per_minute": 5, "metadata": {"team": "ml", "n": 2, "tags": ["a"]}"#)
            #expect(created.rateLimitPerMinute == 5)
            #expect(created.metadata == ["team": "ml", "n": 2, "tags": ["a"]])
            let fetched = try await client.send(.get, "/v1/api-keys/\(created.keyID)", key: Harness.masterKey)
                .decode(APIKeyView.self)
            #expect(fetched.metadata == created.metadata)
            #expect(fetched.rateLimitPerMinute == 5)
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Keys never grant more than their holder has (DESIGN §2a): creating, changing, regenerating and
/// revoking keys stay within the caller's own permissions, lifetime and limit.
@Suite struct DelegationTests {
    /// A key configuration: a role and its scopes (nil: all of the role's).
    struct Shape: Hashable, CustomStringConvertible {
        var role: Role
        var scopes: Set<Permission>?
        var permissions: Set<Permission> { scopes ?? role.permissions }
        var description: String { role.rawValue + "(" + (scopes.map { $0.map(\.rawValue).sorted().joined(separator: " ") } ?? "*") + ")" }

        var createBody: String {
            let scopeList = scopes.map { ", \"scopes\": [" + $0.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ", ") + "]" } ?? ""
            return #"{"name": "\#(description)", "role": "\#(role.rawValue)"\#(scopeList)}"#
        }
    }

    /// Every role with no scopes and with each single permission of its role.
    static let targets: [Shape] = Role.allCases.flatMap { role in
        [Shape(role: role, scopes: nil)] + role.permissions.sorted().map { Shape(role: role, scopes: [$0]) }
    }

    /// Every target shape, plus each role narrowed to key management and one more permission.
    static let callers: [Shape] =
        targets
        + Role.allCases.filter { $0.permissions.contains(.keysWrite) }.flatMap { role in
            role.permissions.subtracting([.keysRead, .keysWrite]).sorted().map {
                Shape(role: role, scopes: [.keysRead, .keysWrite, $0])
            }
        }

    /// The rule, stated independently of the server's code.
    static func allowed(_ caller: Shape, _ target: Shape) -> Bool {
        caller.permissions.contains(.keysWrite) && target.permissions.isSubset(of: caller.permissions)
            && (target.role != .operator || caller.role == .operator)
    }

    /// The permissions `secret` holds, as `/v1/me` reports them.
    static func permissions(of secret: String, client: some TestClientProtocol) async throws -> Set<Permission> {
        let me = try await client.send(.get, "/v1/me", key: secret)
        try #require(me.status == .ok, "\(me.text)")
        let scopes = try #require(me.json["scopes"]?.arrayValue)
        return Set(scopes.compactMap(\.stringValue).map(Permission.init(rawValue:)))
    }

    @Test(.timeLimit(.minutes(10)))
    func noActionEverGivesACallerAKeyOrSecretWithAPermissionItLacks() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            // Thousands of calls: lift the development tenant's per-minute limit.
            let lifted = try await client.send(
                .patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"rate_limit_per_minute": 1000000}"#)
            try #require(lifted.status == .ok)

            func make(_ shape: Shape) async throws -> APIKeyView {
                let reply = try await client.send(.post, "/v1/api-keys", key: Harness.operatorKey, json: shape.createBody)
                try #require(reply.status == .created, "\(shape): \(reply.text)")
                return try reply.decode(APIKeyView.self)
            }
            var pool: [Shape: APIKeyView] = [:]
            for target in Self.targets { pool[target] = try await make(target) }

            var checked = 0
            var allowedCount = 0
            for callerShape in Self.callers {
                let caller = try await make(callerShape).secret()
                let held = try await Self.permissions(of: caller, client: client)
                #expect(held == callerShape.permissions)
                for target in Self.targets {
                    let expected = Self.allowed(callerShape, target)
                    if expected { allowedCount += 1 }
                    let context = "\(callerShape) → \(target)"

                    // create: the new secret holds nothing the caller lacks.
                    let created = try await client.send(.post, "/v1/api-keys", key: caller, json: target.createBody)
                    #expect((created.status == .created) == expected, "create \(context): \(created.status)")
                    if created.status == .created {
                        let secret = try created.decode(APIKeyView.self).secret()
                        #expect(try await Self.permissions(of: secret, client: client).isSubset(of: held), "create \(context)")
                    } else {
                        Self.expectRefusal(created, context: "create \(context)")
                    }

                    // change: widening the key to all of its role's is allowed only if that stays within the caller.
                    let existing = try #require(pool[target])
                    let widen = try await client.send(
                        .patch, "/v1/api-keys/\(existing.keyID)", key: caller, json: #"{"scopes": null}"#)
                    let widenAllowed = expected && Self.allowed(callerShape, Shape(role: target.role, scopes: nil))
                    #expect((widen.status == .ok) == widenAllowed, "widen \(context): \(widen.status) \(widen.text)")
                    if widen.status == .ok {
                        let widened = try widen.decode(APIKeyView.self)
                        #expect(Set((widened.scopes ?? target.role.sortedPermissionNames).map(Permission.init(rawValue:))).isSubset(of: held))
                        pool[target] = try await make(target)
                    } else {
                        Self.expectRefusal(widen, context: "widen \(context)")
                    }

                    // regenerate: the secret handed out holds nothing the caller lacks.
                    let victim = try #require(pool[target])
                    let regenerated = try await client.send(.post, "/v1/api-keys/\(victim.keyID)/regenerate", key: caller)
                    #expect((regenerated.status == .ok) == expected, "regenerate \(context): \(regenerated.status)")
                    if regenerated.status == .ok {
                        let secret = try regenerated.decode(APIKeyView.self).secret()
                        #expect(try await Self.permissions(of: secret, client: client).isSubset(of: held), "regenerate \(context)")
                    } else {
                        Self.expectRefusal(regenerated, context: "regenerate \(context)")
                    }

                    // revoke: only keys within the caller's reach.
                    let revoked = try await client.send(.delete, "/v1/api-keys/\(victim.keyID)", key: caller)
                    #expect((revoked.status == .ok) == expected, "revoke \(context): \(revoked.status)")
                    if revoked.status == .ok {
                        pool[target] = try await make(target)
                    } else {
                        Self.expectRefusal(revoked, context: "revoke \(context)")
                    }
                    checked += 4
                }
            }
            // The enumeration is not vacuous: both outcomes occur, for every action.
            #expect(checked == Self.callers.count * Self.targets.count * 4)
            #expect(allowedCount > 100)
            #expect(allowedCount < Self.callers.count * Self.targets.count / 2)
        }
    }

    @Test func aNarrowedMasterCannotRegenerateTheUnrestrictedMasterAndTheRefusalIsAudited() async throws {
        try await Harness.make().test { client in
            let narrowed = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "scopes": ["keys:read", "keys:write"]"#)
            let full = try await client.createKey(using: Harness.masterKey, name: "full master", role: "master")
            let refused = try await client.send(.post, "/v1/api-keys/\(full.keyID)/regenerate", key: try narrowed.secret())
            #expect(refused.status == .forbidden)
            #expect(refused.errorCode == "INSUFFICIENT_SCOPE")
            let missing = Set(refused.json["error"]?["details"]?["missing"]?.arrayValue?.compactMap(\.stringValue) ?? [])
            #expect(missing.contains("audit:read"))
            #expect(missing.contains("jobs:write"))
            #expect(!missing.contains("keys:write"))
            // The full key's secret still works and was not handed out.
            #expect(try await client.send(.get, "/v1/audit-events", key: try full.secret()).status == .ok)
            let events = try await client.send(.get, "/v1/audit-events?limit=5", key: Harness.masterKey)
            let refusal = try #require(
                events.json["items"]?.arrayValue?.first { $0["type"]?.stringValue == "api_key.delegation_refused" })
            #expect(refusal["actor_key_id"]?.stringValue == narrowed.keyID)
            #expect(refusal["target_id"]?.stringValue == full.keyID)
            #expect(refusal["data"]?["action"]?.stringValue == "regenerate")
        }
    }

    @Test func aScopedOperatorCannotMintAnUnrestrictedOperatorOrATenant() async throws {
        try await Harness.make().test { client in
            let scoped = try await client.createKey(
                using: Harness.operatorKey, role: "operator", extra: #", "scopes": ["keys:write", "tenants:write"]"#)
            let minted = try await client.send(
                .post, "/v1/api-keys", key: try scoped.secret(), json: #"{"name": "root", "role": "operator"}"#)
            #expect(minted.status == .forbidden)
            #expect(minted.errorCode == "INSUFFICIENT_SCOPE")
            // A tenant's answer carries its first master key: refused before the tenant is written.
            let tenant = try await client.send(
                .post, "/v1/tenants", key: try scoped.secret(), json: #"{"tenant_id": "sneaky", "name": "S", "plan": "pro"}"#)
            #expect(tenant.status == .forbidden)
            #expect(try await client.send(.get, "/v1/tenants/sneaky", key: Harness.operatorKey).status == .notFound)
            // Within its reach it still works.
            let same = try await client.send(
                .post, "/v1/api-keys", key: try scoped.secret(),
                json: #"{"name": "same", "role": "operator", "scopes": ["keys:write"]}"#)
            #expect(same.status == .created)
        }
    }

    @Test func aKeyCreatedByAnExpiringOrLimitedKeyNeverOutlivesOrOutpacesIt() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let expiry = RFC3339.string(from: harness.clock.now().addingTimeInterval(3600))
            let later = RFC3339.string(from: harness.clock.now().addingTimeInterval(7200))
            let creator = try await client.createKey(
                using: Harness.masterKey, role: "master",
                extra: #", "expires_at": "\#(expiry)", "rate_limit_per_minute": 100"#)
            let secret = try creator.secret()
            // Left out, the creator's bounds are inherited.
            let inherited = try await client.createKey(using: secret, role: "client")
            #expect(inherited.expiresAt == creator.expiresAt)
            #expect(inherited.rateLimitPerMinute == 100)
            // Asked for beyond them: refused, naming the bound.
            let outliving = try await client.send(
                .post, "/v1/api-keys", key: secret, json: #"{"name": "x", "role": "client", "expires_at": "\#(later)"}"#)
            #expect(outliving.status == .forbidden)
            #expect(outliving.json["error"]?["details"]?["missing"] == ["expires_at"])
            #expect(outliving.json["error"]?["details"]?["max_expires_at"]?.stringValue == expiry)
            let faster = try await client.send(
                .post, "/v1/api-keys", key: secret, json: #"{"name": "x", "role": "client", "rate_limit_per_minute": 101}"#)
            #expect(faster.status == .forbidden)
            #expect(faster.json["error"]?["details"]?["missing"] == ["rate_limit_per_minute"])
            // Nor may it lift those bounds from a key afterwards, or regenerate a key that lives longer.
            let cleared = try await client.send(
                .patch, "/v1/api-keys/\(inherited.keyID)", key: secret, json: #"{"expires_at": null}"#)
            #expect(cleared.status == .forbidden)
            let unlimited = try await client.send(
                .patch, "/v1/api-keys/\(inherited.keyID)", key: secret, json: #"{"rate_limit_per_minute": null}"#)
            #expect(unlimited.status == .forbidden)
            let forever = try await client.createKey(using: Harness.masterKey, role: "client")
            let regenerated = try await client.send(.post, "/v1/api-keys/\(forever.keyID)/regenerate", key: secret)
            #expect(regenerated.status == .forbidden)
            // Lowering them is fine.
            let lowered = try await client.send(
                .patch, "/v1/api-keys/\(inherited.keyID)", key: secret, json: #"{"rate_limit_per_minute": 10}"#)
            #expect(lowered.status == .ok)
            #expect(lowered.json["rate_limit_per_minute"] == 10)
        }
    }

    @Test func aSupersededSecretDoesOrdinaryWorkButManagesNoKeys() async throws {
        try await Harness.make().test { client in
            let master = try await client.createKey(using: Harness.masterKey, name: "rotating", role: "master")
            let old = try master.secret()
            let rotated = try await client.send(
                .post, "/v1/api-keys/\(master.keyID)/regenerate", key: Harness.masterKey, json: #"{"grace_period_seconds": 600}"#)
            #expect(rotated.status == .ok)
            #expect(rotated.header("Cache-Control") == "no-store")
            let new = try rotated.decode(APIKeyView.self).secret()
            // Ordinary work goes on with the old secret during the grace period.
            #expect(try await client.send(.get, "/v1/jobs", key: old).status == .ok)
            #expect(try await client.send(.get, "/v1/audit-events", key: old).status == .ok)
            // Key management does not, not even on its own key.
            let again = try await client.send(.post, "/v1/api-keys/\(master.keyID)/regenerate", key: old)
            #expect(again.status == .forbidden)
            #expect(again.errorCode == "INSUFFICIENT_SCOPE")
            #expect(again.json["error"]?["details"]?["superseded_secret"] == true)
            #expect(!again.text.contains("aitbc_master_"))
            for (method, path, body) in [
                (HTTPRequest.Method.post, "/v1/api-keys", #"{"name": "x", "role": "client"}"#),
                (.get, "/v1/api-keys", nil), (.get, "/v1/api-keys/\(master.keyID)", nil),
                (.patch, "/v1/api-keys/\(master.keyID)", #"{"name": "mine now"}"#),
                (.delete, "/v1/api-keys/\(master.keyID)", nil),
            ] {
                let reply = try await client.send(method, path, key: old, json: body)
                #expect(reply.status == .forbidden, "\(method) \(path)")
            }
            // The new secret manages keys as before.
            #expect(try await client.send(.get, "/v1/api-keys", key: new).status == .ok)
        }
    }

    @Test func responsesCarryingASecretAreNeverCached() async throws {
        try await Harness.make().test { client in
            let created = try await client.send(
                .post, "/v1/api-keys", key: Harness.masterKey, json: #"{"name": "x", "role": "client"}"#)
            #expect(created.status == .created)
            #expect(created.header("Cache-Control") == "no-store")
            let id = try created.decode(APIKeyView.self).keyID
            let regenerated = try await client.send(.post, "/v1/api-keys/\(id)/regenerate", key: Harness.masterKey)
            #expect(regenerated.header("Cache-Control") == "no-store")
            let tenant = try await client.send(
                .post, "/v1/tenants", key: Harness.operatorKey, json: #"{"tenant_id": "acme", "name": "Acme", "plan": "pro"}"#)
            #expect(tenant.status == .created)
            #expect(tenant.header("Cache-Control") == "no-store")
            // Served over plain HTTP, the coordinator sends no Strict-Transport-Security (the TLS test checks it there).
            #expect(created.header("Strict-Transport-Security") == nil)
        }
    }

    @Test func developmentKeyHintsShowAtMostTheirLastFourCharacters() async throws {
        try await Harness.make().test { client in
            let list = try await client.send(.get, "/v1/api-keys?limit=50", key: Harness.masterKey)
            let items = try #require(list.json["items"]?.arrayValue)
            let hints = items.compactMap { $0["hint"]?.stringValue }
            #expect(hints.count == 4)
            for hint in hints { #expect(hint == "…0001") }
            #expect(!list.text.contains("dev-"))
        }
    }

    @Test func aLeakedKeyFloodingTheTenantsBudgetCannotStopItsOwnRevocation() async throws {
        let harness = try await Harness.make(plan: "free")
        try await harness.test { client in
            let leaked = try await client.createKey(using: Harness.masterKey, name: "leaked", role: "client")
            let secret = try leaked.secret()
            var refused = 0
            for _ in 0..<80 where try await client.send(.get, "/v1/jobs", key: secret).status == .tooManyRequests { refused += 1 }
            #expect(refused > 0)
            // The budget is spent: the master's other calls wait like everyone's...
            #expect(try await client.send(.get, "/v1/api-keys", key: Harness.masterKey).status == .tooManyRequests)
            // ...but a revocation goes through, and the leaked key is refused from the next request.
            let revoked = try await client.send(.delete, "/v1/api-keys/\(leaked.keyID)", key: Harness.masterKey)
            #expect(revoked.status == .ok)
            #expect(revoked.json["status"] == "revoked")
            #expect(try await client.send(.get, "/v1/jobs", key: secret).errorCode == "API_KEY_REVOKED")
            // A client key (no keys:write) gets no such way around the budget.
            let other = try await client.send(.delete, "/v1/api-keys/\(leaked.keyID)", key: Harness.clientKey)
            #expect(other.status == .tooManyRequests)
            // Nor is it unlimited: 30 a minute per key.
            var admitted = 0
            for _ in 0..<40 where try await client.send(.delete, "/v1/api-keys/key_none", key: Harness.masterKey).status != .tooManyRequests {
                admitted += 1
            }
            #expect(admitted == 29)
        }
    }

    @Test func anotherTenantOrAnAnonymousCallerCannotChangeKeysOrReleaseMiners() async throws {
        try await Harness.make().test { client in
            let target = try await client.createKey(using: Harness.masterKey, name: "mine", role: "client")
            _ = try await client.send(.post, "/v1/miners/register?miner_id=rig", key: Harness.minerKey, json: "{}")
            let stranger = try #require(try await client.createTenant("stranger").masterKey?.apiKey)
            let patched = try await client.send(
                .patch, "/v1/api-keys/\(target.keyID)", key: stranger, json: #"{"scopes": null, "name": "taken"}"#)
            #expect(patched.status == .notFound)
            #expect(patched.errorCode == "KEY_NOT_FOUND")
            #expect(try await client.send(.delete, "/v1/miners/rig", key: stranger).status == .notFound)
            #expect(try await client.send(.patch, "/v1/api-keys/\(target.keyID)", json: #"{"name": "x"}"#).status == .unauthorized)
            #expect(try await client.send(.delete, "/v1/miners/rig").status == .unauthorized)
            // Nothing changed: the key keeps its name, the miner its owner.
            let kept = try await client.send(.get, "/v1/api-keys/\(target.keyID)", key: Harness.masterKey)
            #expect(kept.json["name"] == "mine")
            #expect(try await client.send(.post, "/v1/miners/poll?miner_id=rig", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#).status == .noContent)
        }
    }

    static func expectRefusal(_ reply: Reply, context: String) {
        #expect(reply.status == .forbidden, "\(context): \(reply.status)")
        #expect(reply.errorCode == "INSUFFICIENT_SCOPE", "\(context)")
        let missing = reply.json["error"]?["details"]?["missing"]?.arrayValue ?? []
        #expect(!missing.isEmpty, "\(context): details.missing is empty: \(reply.text)")
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Operator tenant management and the isolation between tenants.
@Suite struct TenantTests {
    @Test func operatorCreatesListsAndReadsTenants() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let acme = try await client.createTenant("acme", plan: "pro")
            #expect(acme.plan == "pro")
            #expect(acme.rateLimitPerMinute == 600)
            let master = try #require(acme.masterKey)
            #expect(master.role == "master")
            #expect(master.tenantID == "acme")
            #expect(try await client.send(.get, "/v1/me", key: try master.secret()).json["tenant_id"] == "acme")

            harness.clock.advance(by: 1)
            let generated = try await client.send(
                .post, "/v1/tenants", key: Harness.operatorKey, json: #"{"name": "Generated", "plan": "free"}"#)
            #expect(generated.status == .created)
            #expect(generated.json["tenant_id"]?.stringValue?.hasPrefix("ten_") == true)

            let list = try await client.send(.get, "/v1/tenants", key: Harness.operatorKey).decode(Page<TenantView>.self)
            #expect(list.items.map(\.tenantID).contains("acme"))
            #expect(list.items.first?.name == "Generated")
            let one = try await client.send(.get, "/v1/tenants/acme", key: Harness.operatorKey)
            #expect(one.json["name"] == "Tenant acme")
            #expect(try await client.send(.get, "/v1/tenants/nope", key: Harness.operatorKey).errorCode == "TENANT_NOT_FOUND")
        }
    }

    @Test func duplicateAndInvalidTenantIDsAreRefused() async throws {
        try await Harness.make().test { client in
            _ = try await client.createTenant("acme")
            let again = try await client.send(
                .post, "/v1/tenants", key: Harness.operatorKey, json: #"{"tenant_id": "acme", "name": "x", "plan": "free"}"#)
            #expect(again.status == .conflict)
            let bad = try await client.send(
                .post, "/v1/tenants", key: Harness.operatorKey, json: #"{"tenant_id": "Not Valid!", "name": "x", "plan": "free"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.json["error"]?["details"]?["field"] == "tenant_id")
        }
    }

    @Test func masterOfOneTenantCannotSeeOrTouchAnothersKeys() async throws {
        try await Harness.make().test { client in
            let acme = try await client.createTenant("acme")
            let acmeMaster = try #require(acme.masterKey?.apiKey)
            let globex = try await client.createTenant("globex")
            let globexMaster = try #require(globex.masterKey?.apiKey)
            let globexKey = try await client.createKey(using: globexMaster, name: "globex client")

            let list = try await client.send(.get, "/v1/api-keys?limit=100", key: acmeMaster).decode(Page<APIKeyView>.self)
            // Acme's own master key, and only it.
            #expect(list.items.map(\.keyID) == [acme.masterKey?.keyID])
            #expect(list.items.allSatisfy { $0.tenantID == "acme" })

            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/api-keys/\(globexKey.keyID)"),
                (.delete, "/v1/api-keys/\(globexKey.keyID)"),
                (.post, "/v1/api-keys/\(globexKey.keyID)/regenerate"),
                (.get, "/v1/api-keys/\(globexKey.keyID)/usage"),
            ] {
                let reply = try await client.send(method, path, key: acmeMaster)
                #expect(reply.status == .notFound, "\(method) \(path)")
                #expect(reply.errorCode == "KEY_NOT_FOUND")
            }
            // The globex key still works: nothing was revoked or regenerated.
            #expect(try await client.send(.get, "/v1/me", key: try globexKey.secret()).status == .ok)

            let crossTenant = try await client.send(.get, "/v1/api-keys", key: acmeMaster, headers: ["X-Tenant-ID": "globex"])
            #expect(crossTenant.errorCode == "TENANT_MISMATCH")
            let createElsewhere = try await client.send(
                .post, "/v1/api-keys", key: acmeMaster, json: #"{"name": "x", "role": "client", "tenant_id": "globex"}"#)
            #expect(createElsewhere.errorCode == "TENANT_MISMATCH")

            let audit = try await client.send(.get, "/v1/audit-events?limit=100", key: acmeMaster).decode(Page<AuditEventView>.self)
            #expect(!audit.items.isEmpty)
            #expect(audit.items.allSatisfy { $0.tenantID == "acme" })
        }
    }

    @Test func operatorActsInsideATenantWithXTenantID() async throws {
        try await Harness.make().test { client in
            _ = try await client.createTenant("acme")
            let created = try await client.createKey(
                using: Harness.operatorKey, name: "made by operator", headers: ["X-Tenant-ID": "acme"])
            #expect(created.tenantID == "acme")
            let scoped = try await client.send(
                .get, "/v1/api-keys?limit=100", key: Harness.operatorKey, headers: ["X-Tenant-ID": "acme"]
            ).decode(Page<APIKeyView>.self)
            #expect(scoped.items.allSatisfy { $0.tenantID == "acme" })
            #expect(scoped.items.count == 2)
            let unknown = try await client.send(.get, "/v1/api-keys", key: Harness.operatorKey, headers: ["X-Tenant-ID": "nope"])
            #expect(unknown.errorCode == "TENANT_NOT_FOUND")
        }
    }
}

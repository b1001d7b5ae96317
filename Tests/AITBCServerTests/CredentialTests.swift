import AITBCDomain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// How a key may arrive, and what happens when it does not, or arrives twice.
@Suite struct CredentialTests {
    @Test func keyInXAPIKeyHeaderIsAccepted() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/jobs", key: Harness.clientKey)
            #expect(reply.status == .ok)
            #expect(reply.json["items"] == .array([]))
        }
    }

    @Test func theBearerSchemeIsCaseInsensitiveAndOtherSchemesCarryNoKey() async throws {
        try await Harness.make().test { client in
            for value in ["bearer \(Harness.clientKey)", "BEARER \(Harness.clientKey)", "Bearer   \(Harness.clientKey)"] {
                let reply = try await client.send(.get, "/v1/me", headers: ["Authorization": value])
                #expect(reply.status == .ok, "Authorization: \(value)")
                #expect(reply.json["key_id"] == "key_dev_client", "Authorization: \(value)")
            }
            // Basic credentials are not a key: the request carries none.
            let basic = try await client.send(.get, "/v1/me", headers: ["Authorization": "Basic \(Harness.clientKey)"])
            #expect(basic.status == .unauthorized)
            #expect(basic.errorCode == "MISSING_API_KEY")
        }
    }

    @Test func bearerTokenIsAccepted() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/me", headers: ["Authorization": "Bearer \(Harness.clientKey)"])
            #expect(reply.status == .ok)
            #expect(reply.json["key_id"] == "key_dev_client")
        }
    }

    @Test func queryStringKeyIsAccepted() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/me?api_key=\(Harness.clientKey)")
            #expect(reply.status == .ok)
        }
    }

    @Test func queryStringKeysCanBeSwitchedOff() async throws {
        try await Harness.make(configure: { $0.allowQueryKeys = false }).test { client in
            let reply = try await client.send(.get, "/v1/me?api_key=\(Harness.clientKey)")
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "INVALID_REQUEST")
            #expect(reply.json["error"]?["details"]?["field"] == "api_key")
            #expect(!reply.text.contains(Harness.clientKey))
        }
    }

    @Test func twoDifferentKeysAreAmbiguous() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(
                .get, "/v1/me?api_key=\(Harness.masterKey)", key: Harness.clientKey)
            #expect(reply.status == .badRequest)
            #expect(reply.errorCode == "AMBIGUOUS_CREDENTIALS")
            let bearer = try await client.send(
                .get, "/v1/me", key: Harness.clientKey, headers: ["Authorization": "Bearer \(Harness.masterKey)"])
            #expect(bearer.errorCode == "AMBIGUOUS_CREDENTIALS")
        }
    }

    @Test func theSameKeyTwiceIsNotAmbiguous() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(
                .get, "/v1/me", key: Harness.clientKey, headers: ["Authorization": "Bearer \(Harness.clientKey)"])
            #expect(reply.status == .ok)
        }
    }

    @Test func noKeyIsMissingAPIKey() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/jobs")
            #expect(reply.status == .unauthorized)
            #expect(reply.errorCode == "MISSING_API_KEY")
            let basic = try await client.send(.get, "/v1/jobs", headers: ["Authorization": "Basic dXNlcjpwYXNz"])
            #expect(basic.errorCode == "MISSING_API_KEY")
        }
    }

    @Test func unknownKeyIsInvalid() async throws {
        try await Harness.make().test { client in
            for key in ["nope", "aitbc_client_AAAAAAAAAAAAAAAAAAAAAAAAAAAA000000", String(repeating: "k", count: 300)] {
                let reply = try await client.send(.get, "/v1/me", key: key)
                #expect(reply.status == .unauthorized)
                #expect(reply.errorCode == "INVALID_API_KEY")
                #expect(reply.json["error"]?["message"] == "The provided API key is invalid")
                #expect(!reply.text.contains(key))
            }
        }
    }

    @Test func tenantHeaderMustNameTheKeysTenant() async throws {
        try await Harness.make().test { client in
            let same = try await client.send(.get, "/v1/me", key: Harness.clientKey, headers: ["X-Tenant-ID": "test-tenant"])
            #expect(same.status == .ok)
            let other = try await client.send(.get, "/v1/me", key: Harness.clientKey, headers: ["X-Tenant-ID": "someone-else"])
            #expect(other.status == .forbidden)
            #expect(other.errorCode == "TENANT_MISMATCH")
            #expect(other.header("X-RateLimit-Limit") != nil)
        }
    }

    @Test func meDescribesTheCallingKey() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/me", key: Harness.masterKey)
            #expect(reply.status == .ok)
            #expect(reply.json["key_id"] == "key_dev_master")
            #expect(reply.json["role"] == "master")
            #expect(reply.json["tenant_id"] == "test-tenant")
            #expect(reply.json["plan"] == "enterprise")
            #expect(reply.json["rate_limit"]?["limit"] == 6000)
            #expect(reply.json["rate_limit"]?["remaining"] == 5999)
            let scopes = reply.json["scopes"]
            #expect(scopes == .array(["audit:read", "jobs:read", "jobs:write", "keys:read", "keys:write", "miners:read", "miners:write", "stats:read", "usage:read", "webhooks:read", "webhooks:write"]))
        }
    }

    @Test func meReflectsAPlanChangeAtOnce() async throws {
        try await Harness.make(plan: "pro").test { client in
            #expect(try await client.send(.get, "/v1/me", key: Harness.clientKey).json["plan"] == "pro")
            _ = try await client.send(.patch, "/v1/tenants/test-tenant", key: Harness.operatorKey, json: #"{"plan": "enterprise"}"#)
            let after = try await client.send(.get, "/v1/me", key: Harness.clientKey)
            #expect(after.json["plan"] == "enterprise")
            #expect(after.json["rate_limit"]?["limit"] == 6000)
        }
    }
}

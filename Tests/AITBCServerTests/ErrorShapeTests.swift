import AITBCDomain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Every error, from every route, comes back in the contract's JSON shape with the right status.
@Suite struct ErrorShapeTests {
    func expectShape(_ reply: Reply, _ status: HTTPResponse.Status, _ code: String) {
        #expect(reply.status == status, "\(reply.text)")
        #expect(reply.errorCode == code, "\(reply.text)")
        #expect(reply.json["error"]?["message"]?.stringValue?.isEmpty == false)
        #expect(reply.json["error"]?["details"]?.objectValue != nil)
        #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true)
    }

    @Test func unknownPathIsJSON404() async throws {
        try await Harness.make().test { client in
            expectShape(try await client.send(.get, "/definitely/not/here"), .notFound, "NOT_FOUND")
            expectShape(try await client.send(.get, "/v1/nothing-here", key: Harness.clientKey), .notFound, "NOT_FOUND")
        }
    }

    @Test func unknownPathUnderV1CarriesRateLimitHeaders() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/nothing-here", key: Harness.clientKey)
            #expect(reply.header("X-RateLimit-Limit") == "6000")
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.put, "/health")
            expectShape(reply, .methodNotAllowed, "METHOD_NOT_ALLOWED")
            #expect(reply.header("Allow") == "GET")
            let keys = try await client.send(.put, "/v1/api-keys/key_x", key: Harness.masterKey)
            expectShape(keys, .methodNotAllowed, "METHOD_NOT_ALLOWED")
            #expect(keys.header("Allow")?.contains("DELETE") == true)
        }
    }

    /// A path inside a group that needs a key (`/v1/…`, `/metrics`) that no route serves is answered
    /// as the group's routes are: the key first. An anonymous caller learns nothing of which routes
    /// exist (401 whether or not the path is served, no `Allow`); a valid key gets the 404 or 405 with
    /// its budget's headers, charged like any call.
    @Test func anUnroutedPathInAKeyedGroupAsksForTheKeyFirst() async throws {
        try await Harness.make().test { client in
            let unrouted: [(HTTPRequest.Method, String)] = [
                (.get, "/v1/nothing-here"), (.put, "/v1/api-keys/key_x"), (.get, "/v1"), (.get, "/v1/miners"),
                (.post, "/metrics"),
            ]
            for (method, path) in unrouted {
                let anonymous = try await client.send(method, path)
                expectShape(anonymous, .unauthorized, "MISSING_API_KEY")
                #expect(anonymous.header("Allow") == nil, "\(method) \(path)")
                #expect(anonymous.header("X-RateLimit-Limit") == nil, "\(method) \(path)")
            }
            let first = try await client.send(.get, "/v1/nothing-here", key: Harness.clientKey)
            expectShape(first, .notFound, "NOT_FOUND")
            let second = try await client.send(.get, "/v1/nothing-here", key: Harness.clientKey)
            let remaining = [first, second].compactMap { $0.header("X-RateLimit-Remaining").flatMap { Int($0) } }
            #expect(remaining.count == 2 && remaining[1] < remaining[0], "each unrouted call is charged: \(remaining)")
            let wrongMethod = try await client.send(.put, "/v1/api-keys/key_x", key: Harness.masterKey)
            expectShape(wrongMethod, .methodNotAllowed, "METHOD_NOT_ALLOWED")
            #expect(wrongMethod.header("Allow").map { Set($0.components(separatedBy: ", ")) } == ["GET", "PATCH", "DELETE"])
            #expect(wrongMethod.header("X-RateLimit-Limit") != nil)
            let metrics = try await client.send(.post, "/metrics", key: Harness.operatorKey)
            expectShape(metrics, .methodNotAllowed, "METHOD_NOT_ALLOWED")
            #expect(metrics.header("Allow") == "GET")
            // Outside the keyed groups nothing asks for a key.
            expectShape(try await client.send(.get, "/v2/me"), .notFound, "NOT_FOUND")
        }
    }

    @Test func malformedJSONIsInvalidRequest() async throws {
        try await Harness.make().test { client in
            for body in [#"{"name": "x""#, "not json", "[1,2]", "\"string\""] {
                expectShape(
                    try await client.send(.post, "/v1/api-keys", key: Harness.masterKey, json: body), .badRequest,
                    "INVALID_REQUEST")
            }
        }
    }

    @Test func wrongTypesNameTheField() async throws {
        try await Harness.make().test { client in
            let cases: [(String, String)] = [
                (#"{"name": 3, "role": "client"}"#, "name"),
                (#"{"name": "x"}"#, "role"),
                (#"{"name": "x", "role": "wizard"}"#, "role"),
                (#"{"name": "x", "role": "client", "expires_at": "tomorrow"}"#, "expires_at"),
                (#"{"name": "x", "role": "client", "expires_at": "2020-01-01T00:00:00Z"}"#, "expires_at"),
                (#"{"name": "x", "role": "client", "scopes": ["keys:write"]}"#, "scopes"),
                (#"{"name": "x", "role": "client", "scopes": ["jobs:fly"]}"#, "scopes"),
                (#"{"name": "x", "role": "client", "rate_limit_per_minute": 0}"#, "rate_limit_per_minute"),
                (#"{"name": "x", "role": "client", "rate_limit_per_minute": "ten"}"#, "rate_limit_per_minute"),
                (#"{"name": "", "role": "client"}"#, "name"),
                (#"{"name": "x", "role": "client", "metadata": [1]}"#, "metadata"),
            ]
            for (body, field) in cases {
                let reply = try await client.send(.post, "/v1/api-keys", key: Harness.masterKey, json: body)
                expectShape(reply, .badRequest, "INVALID_REQUEST")
                #expect(reply.json["error"]?["details"]?["field"]?.stringValue == field, "\(body) → \(reply.text)")
            }
        }
    }

    @Test func oversizedBodyIs413() async throws {
        try await Harness.make().test { client in
            let big = #"{"name": "x", "role": "client", "metadata": {"blob": ""# + String(repeating: "a", count: 2_200_000) + #""}}"#
            expectShape(
                try await client.send(.post, "/v1/api-keys", key: Harness.masterKey, json: big), .contentTooLarge,
                "PAYLOAD_TOO_LARGE")
        }
    }

    @Test func unknownKeyIDIsKeyNotFound() async throws {
        try await Harness.make().test { client in
            expectShape(
                try await client.send(.get, "/v1/api-keys/key_doesnotexist", key: Harness.masterKey), .notFound,
                "KEY_NOT_FOUND")
            expectShape(
                try await client.send(.delete, "/v1/api-keys/key_doesnotexist", key: Harness.masterKey), .notFound,
                "KEY_NOT_FOUND")
            expectShape(
                try await client.send(.post, "/v1/api-keys/key_doesnotexist/regenerate", key: Harness.masterKey),
                .notFound, "KEY_NOT_FOUND")
            expectShape(
                try await client.send(.get, "/v1/api-keys/" + String(repeating: "k", count: 500), key: Harness.masterKey),
                .notFound, "KEY_NOT_FOUND")
        }
    }

    @Test func badPaginationParametersAreInvalidRequest() async throws {
        try await Harness.make().test { client in
            for query in ["limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=bm90LWEtY3Vyc29y"] {
                let reply = try await client.send(.get, "/v1/api-keys?\(query)", key: Harness.masterKey)
                expectShape(reply, .badRequest, "INVALID_REQUEST")
            }
        }
    }

    @Test func clientKeyCannotManageKeys() async throws {
        try await Harness.make().test { client in
            let reply = try await client.send(.get, "/v1/api-keys", key: Harness.clientKey)
            expectShape(reply, .forbidden, "INSUFFICIENT_SCOPE")
            #expect(reply.json["error"]?["details"]?["required"] == "keys:read")
            expectShape(
                try await client.send(.post, "/v1/tenants", key: Harness.masterKey, json: #"{"name":"x","plan":"free"}"#),
                .forbidden, "INSUFFICIENT_SCOPE")
            expectShape(try await client.send(.get, "/v1/jobs", key: Harness.minerKey), .forbidden, "INSUFFICIENT_SCOPE")
        }
    }

    @Test func healthAndReadyAnswer() async throws {
        try await Harness.make().test { client in
            let health = try await client.send(.get, "/health")
            #expect(health.status == .ok)
            #expect(health.json["status"] == "ok")
            let ready = try await client.send(.get, "/ready")
            #expect(ready.status == .ok)
        }
    }

    @Test func everyResponseCarriesARequestID() async throws {
        try await Harness.make().test { client in
            let generated = try await client.send(.get, "/health")
            let id = try #require(generated.header("X-Request-ID"))
            #expect(!id.isEmpty)
            #expect(try await client.send(.get, "/nope").header("X-Request-ID")?.isEmpty == false)
            let echoed = try await client.send(.get, "/v1/me", key: "bad", headers: ["X-Request-ID": "trace-123.abc_X"])
            #expect(echoed.header("X-Request-ID") == "trace-123.abc_X")
            let replaced = try await client.send(.get, "/health", headers: ["X-Request-ID": "<script>"])
            #expect(replaced.header("X-Request-ID") != "<script>")
        }
    }
}

import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// The OpenAPI document and the router agree, both ways; `/docs` is a page without scripts.
@Suite struct OpenAPITests {
    @Test func everyRegisteredRouteIsDocumentedAndNothingElse() async throws {
        let harness = try await Harness.make()
        let (_, routes) = try buildRouter(coordinator: harness.coordinator, settings: harness.settings)
        let registered = Set(routes.map { "\($0.method.rawValue.lowercased()) \($0.path)" })
        var documented = Set<String>()
        for (path, item) in OpenAPIDocument.document["paths"]?.objectValue ?? [:] {
            for method in (item.objectValue ?? [:]).keys { documented.insert("\(method) \(path)") }
        }
        #expect(registered.subtracting(documented).isEmpty, "undocumented: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "documented but not served: \(documented.subtracting(registered).sorted())")
        await harness.close()
    }

    @Test func documentAndDocsPageAreServed() async throws {
        try await Harness.make().test { client in
            let document = try await client.send(.get, "/openapi.json")
            #expect(document.status == .ok)
            #expect(document.json["openapi"] == "3.1.0")
            #expect(document.json["components"]?["securitySchemes"]?["ApiKeyQuery"]?["name"] == "api_key")
            #expect(document.json["components"]?["headers"]?["X-RateLimit-Remaining"] != nil)
            let docs = try await client.send(.get, "/docs")
            #expect(docs.status == .ok)
            #expect(docs.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(docs.text.contains("/v1/api-keys/{key_id}/regenerate"))
            #expect(!docs.text.contains("<script"))
            #expect(!docs.text.contains("http://") && !docs.text.contains("https://"))
        }
    }

    @Test func successBodiesMatchTheirSchemasRequiredFields() async throws {
        // Every schema's required fields are present in what the server actually writes.
        try await Harness.make().test { client in
            let schemas = OpenAPIDocument.document["components"]?["schemas"]?.objectValue ?? [:]
            func required(_ name: String) -> [String] {
                guard case .array(let fields)? = schemas[name]?["required"] else { return [] }
                return fields.compactMap(\.stringValue)
            }
            let key = try await client.send(.post, "/v1/api-keys", key: Harness.masterKey, json: #"{"name": "x", "role": "client"}"#)
            let me = try await client.send(.get, "/v1/me", key: Harness.masterKey)
            let job = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#)
            let miner = try await client.send(.post, "/v1/miners/register", key: Harness.minerKey, json: "{}")
            let stats = try await client.send(.get, "/v1/admin/stats", key: Harness.masterKey)
            for (reply, schema) in [(key, "APIKey"), (me, "Me"), (job, "Job"), (miner, "Miner"), (stats, "Stats")] {
                let object = try #require(reply.json.objectValue, "\(schema): \(reply.text)")
                for field in required(schema) { #expect(object[field] != nil, "\(schema).\(field) missing") }
            }
        }
    }
}

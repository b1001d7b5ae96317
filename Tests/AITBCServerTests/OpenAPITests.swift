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
        let routes = try buildRouter(coordinator: harness.coordinator, settings: harness.settings).apiRoutes
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

    @Test func everyDocumentedResponseBodyIsWhatTheServerWrites() async throws {
        // A real response for every schema a success response (or an error) names: each has the
        // schema's required fields, no field the schema does not list, values of the listed types,
        // and together they show every listed field at least once.
        let schemas = try #require(OpenAPIDocument.document["components"]?["schemas"]?.objectValue)
        let documented = Self.responseSchemaNames().union(["Error"])
        #expect(documented.count >= 15, "\(documented.sorted())")
        try await Harness.make().test { client in
            var seen: [String: [JSONValue]] = [:]
            func take(_ schema: String, _ reply: Reply, _ status: HTTPResponse.Status = .ok) {
                #expect(reply.status == status, "\(schema): \(reply.status) \(reply.text)")
                seen[schema, default: []].append(reply.json)
            }
            let master = Harness.masterKey, op = Harness.operatorKey, miner = Harness.minerKey
            take("Health", try await client.send(.get, "/health"))
            take("Health", try await client.send(.get, "/ready"))
            take("Me", try await client.send(.get, "/v1/me", key: master))
            let created = try await client.send(
                .post, "/v1/api-keys", key: master,
                json: #"{"name": "x", "role": "client", "scopes": ["jobs:read"], "rate_limit_per_minute": 10, "metadata": {"team": "ml"}, "credits": {"remaining": 50, "refill": {"amount": 50, "interval": "monthly"}}}"#)
            take("APIKey", created, .created)
            let keyID = try #require(created.json["key_id"]?.stringValue)
            take("Me", try await client.send(.get, "/v1/me", key: try #require(created.json["api_key"]?.stringValue)))
            take("APIKey", try await client.send(.get, "/v1/api-keys/\(keyID)", key: master))
            take("APIKey", try await client.send(.patch, "/v1/api-keys/\(keyID)", key: master, json: #"{"name": "y"}"#))
            take("APIKey", try await client.send(.post, "/v1/api-keys/\(keyID)/regenerate", key: master, json: #"{"grace_period_seconds": 60}"#))
            take("KeyUsage", try await client.send(.get, "/v1/api-keys/\(keyID)/usage", key: master))
            take("APIKey", try await client.send(.delete, "/v1/api-keys/\(keyID)", key: master))
            take("Page<APIKey>", try await client.send(.get, "/v1/api-keys?limit=2", key: master))
            take("Page<AuditEvent>", try await client.send(.get, "/v1/audit-events?limit=5", key: master))
            take("UsageReport", try await client.send(.get, "/v1/usage?group_by=key&limit=1", key: master))
            let acme = try await client.send(
                .post, "/v1/tenants", key: op, json: #"{"tenant_id": "acme", "name": "Acme", "plan": "free"}"#)
            take("Tenant", acme, .created)
            take("Tenant", try await client.send(.get, "/v1/tenants/acme", key: op))
            take("Tenant", try await client.send(.patch, "/v1/tenants/acme", key: op, json: #"{"rate_limit_per_minute": 100, "quota_per_day": 1000}"#))
            take("Me", try await client.send(.get, "/v1/me", key: try #require(acme.json["master_key"]?["api_key"]?.stringValue)))
            take("Page<Tenant>", try await client.send(.get, "/v1/tenants", key: op))

            take("Miner", try await client.send(
                .post, "/v1/miners/register?miner_id=m1", key: miner, json: #"{"capabilities": {"gpu": {"memory_gb": 24}}, "region": "eu"}"#))
            take("Miner", try await client.send(.post, "/v1/miners/heartbeat?miner_id=m1", key: miner, json: #"{"inflight": 0}"#))
            let job = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {"p": 1}}"#)
            take("Job", job, .created)
            let jobID = try #require(job.json["job_id"]?.stringValue)
            take("AssignedJob", try await client.send(.post, "/v1/miners/poll?miner_id=m1", key: miner, json: #"{"max_wait_seconds": 0}"#))
            take("Job", try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey))
            take("Job", try await client.send(.post, "/v1/miners/\(jobID)/result?miner_id=m1", key: miner, json: #"{"result": "done"}"#))
            take("JobResult", try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey))
            take("Receipt", try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey))
            take("ReceiptList", try await client.send(.get, "/v1/jobs/\(jobID)/receipts", key: Harness.clientKey))
            take("ReceiptKeyList", try await client.send(.get, "/v1/receipts/keys"))
            let failing = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#).json["job_id"]?.stringValue)
            _ = try await client.send(.post, "/v1/miners/poll?miner_id=m1", key: miner, json: #"{"max_wait_seconds": 0}"#)
            take("Job", try await client.send(.post, "/v1/miners/\(failing)/fail?miner_id=m1", key: miner, json: #"{"error_code": "OOM"}"#))
            let canceled = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#).json["job_id"]?.stringValue)
            take("Job", try await client.send(.post, "/v1/jobs/\(canceled)/cancel", key: Harness.clientKey))
            take("Page<Job>", try await client.send(.get, "/v1/jobs?limit=2", key: Harness.clientKey))
            take("Stats", try await client.send(.get, "/v1/admin/stats", key: master))
            take("Miner", try await client.send(.post, "/v1/miners/drain?miner_id=m1", key: miner))
            take("MinerReleased", try await client.send(.delete, "/v1/miners/m1", key: miner))
            take("Error", try await client.send(.get, "/v1/jobs/job_missing", key: Harness.clientKey), .notFound)
            try await Self.takeWebhookResponses(client, take)

            #expect(documented.subtracting(seen.keys).isEmpty, "no real response checked for \(documented.subtracting(seen.keys).sorted())")
            for (name, bodies) in seen.sorted(by: { $0.key < $1.key }) {
                let schema = try #require(Self.schema(named: name, in: schemas), "\(name) is not documented")
                let properties = try #require(schema["properties"]?.objectValue, "\(name) lists no properties")
                let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
                #expect(!required.isEmpty, "\(name) requires nothing")
                #expect(Set(required).isSubset(of: properties.keys), "\(name) requires fields it does not list")
                for body in bodies {
                    let problems = Self.mismatches(body, schema, at: name, schemas: schemas)
                    #expect(problems.isEmpty, "\(problems) in \(body)")
                }
                let shown = Set(bodies.flatMap { $0.objectValue?.keys.map { $0 } ?? [] })
                #expect(Set(properties.keys).subtracting(shown).isEmpty, "\(name) lists fields never written: \(Set(properties.keys).subtracting(shown).sorted())")
            }
        }
    }

    /// The schemas the document's success responses name: `Job`, or `Page<Job>` for a page of jobs.
    static func responseSchemaNames() -> Set<String> {
        var names = Set<String>()
        for (_, item) in OpenAPIDocument.document["paths"]?.objectValue ?? [:] {
            for (_, operation) in item.objectValue ?? [:] {
                for (status, response) in operation["responses"]?.objectValue ?? [:] where status.hasPrefix("2") {
                    guard let schema = response["content"]?["application/json"]?["schema"] else { continue }
                    if let ref = schema["$ref"]?.stringValue {
                        names.insert(String(ref.split(separator: "/").last ?? ""))
                    } else if let item = schema["properties"]?["items"]?["items"]?["$ref"]?.stringValue {
                        names.insert("Page<\(item.split(separator: "/").last ?? "")>")
                    }
                }
            }
        }
        return names
    }

    /// The schema `name` (`Page<Job>`: the page schema the document builds around `Job`).
    static func schema(named name: String, in schemas: [String: JSONValue]) -> JSONValue? {
        guard name.hasPrefix("Page<"), name.hasSuffix(">") else { return schemas[name] }
        return OpenAPIDocument.page(of: String(name.dropFirst(5).dropLast()))
    }

    /// Where `value` disagrees with `schema`, for the parts of JSON Schema the document uses:
    /// `$ref`, `type`, `enum`, `format: date-time`, `properties`, `required`, `additionalProperties`, `items`.
    static func mismatches(_ value: JSONValue, _ schema: JSONValue, at path: String, schemas: [String: JSONValue]) -> [String] {
        if let ref = schema["$ref"]?.stringValue {
            let name = String(ref.split(separator: "/").last ?? "")
            guard let target = schemas[name] else { return ["\(path): no schema \(name)"] }
            return mismatches(value, target, at: path, schemas: schemas)
        }
        let types: [String]
        switch schema["type"] {
        case .string(let type)?: types = [type]
        case .array(let list)?: types = list.compactMap(\.stringValue)
        default: types = []
        }
        let actual: String
        switch value {
        case .null: actual = "null"
        case .bool: actual = "boolean"
        case .int, .largeInteger: actual = "integer"
        case .double: actual = "number"
        case .string: actual = "string"
        case .array: actual = "array"
        case .object: actual = "object"
        }
        if !types.isEmpty, !types.contains(actual), !(actual == "integer" && types.contains("number")) {
            return ["\(path): \(actual), documented as \(types)"]
        }
        if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) { return ["\(path): \(value) is not one of \(allowed)"] }
        var problems: [String] = []
        switch value {
        case .string(let text) where schema["format"] == "date-time":
            if RFC3339.date(from: text) == nil { problems.append("\(path): \(text) is not an RFC 3339 time") }
        case .object(let object):
            let properties = schema["properties"]?.objectValue
            for field in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where object[field] == nil {
                problems.append("\(path).\(field) missing")
            }
            for (field, fieldValue) in object {
                if let property = properties?[field] {
                    problems += mismatches(fieldValue, property, at: "\(path).\(field)", schemas: schemas)
                } else if case .object = schema["additionalProperties"] {
                    problems += mismatches(fieldValue, schema["additionalProperties"]!, at: "\(path).\(field)", schemas: schemas)
                } else if properties != nil, schema["additionalProperties"] != true {
                    problems.append("\(path).\(field) is not documented")
                }
            }
        case .array(let items):
            if let itemSchema = schema["items"] {
                for (index, item) in items.enumerated() {
                    problems += mismatches(item, itemSchema, at: "\(path)[\(index)]", schemas: schemas)
                }
            }
        default: break
        }
        return problems
    }
}

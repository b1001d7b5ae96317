import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// `GET /v1/usage`: who may read which tenant's report, bad parameters, and the CSV form.
@Suite struct UsageReportAccessTests {
    static let range = "from=\(UsageReportTests.stamp(-86400))&to=\(UsageReportTests.stamp(0))"

    /// Tenants `tenant-a` and `tenant-b`, each with its master key's usage recorded yesterday.
    static func twoTenants(_ harness: Harness, _ client: any TestClientProtocol) async throws
        -> (a: APIKeyView, b: APIKeyView)
    {
        let a = try #require(try await client.createTenant("tenant-a").masterKey)
        let b = try #require(try await client.createTenant("tenant-b").masterKey)
        UsageReportTests.record(harness, a.keyID, at: UsageReportTests.at(-7200), count: 11)
        UsageReportTests.record(harness, a.keyID, at: UsageReportTests.at(-3600), count: 12)
        UsageReportTests.record(harness, b.keyID, at: UsageReportTests.at(-3600), count: 22)
        return (a, b)
    }

    @Test func aHostileMasterOfAnotherTenantSeesNothingOfItByAnyMeans() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let (a, b) = try await Self.twoTenants(harness, client)
            let hostile = try b.secret()
            let own = try await client.send(.get, "/v1/usage?group_by=key&\(Self.range)", key: hostile)
            #expect(own.status == .ok)
            let ownRows = try own.decode(UsageReportPage.self).items
            #expect(ownRows.map(\.admitted) == [22] && ownRows.allSatisfy { $0.tenantID == "tenant-b" })

            let named = try await client.send(.get, "/v1/usage?tenant_id=tenant-a&\(Self.range)", key: hostile)
            #expect(named.status == .forbidden && named.errorCode == "TENANT_MISMATCH")
            let header = try await client.send(.get, "/v1/usage?\(Self.range)", key: hostile, headers: ["X-Tenant-ID": "tenant-a"])
            #expect(header.status == .forbidden && header.errorCode == "TENANT_MISMATCH")
            #expect(try await client.send(.get, "/v1/usage?tenant_id=nope&\(Self.range)", key: hostile).errorCode == "TENANT_MISMATCH")

            // A cursor from the operator's report of tenant A belongs to another report: refused.
            let operatorPage = try await client.send(
                .get, "/v1/usage?tenant_id=tenant-a&limit=1&\(Self.range)", key: Harness.operatorKey
            ).decode(UsageReportPage.self)
            let stolen = try #require(operatorPage.nextCursor)
            for uri in ["/v1/usage?cursor=\(stolen)", "/v1/usage?limit=1&\(Self.range)&cursor=\(stolen)"] {
                let reply = try await client.send(.get, uri, key: hostile)
                #expect(reply.status == .badRequest && reply.json["error"]?["details"]?["field"] == "cursor", "\(reply.text)")
            }
            // A forged cursor (B's own report, A's position, or a scope of A) still shows B's rows only, or nothing.
            let query = UsageReportQuery(
                granularity: .hour, from: Int64(UsageReportTests.at(-86400).timeIntervalSince1970),
                to: Int64(UsageReportTests.at(0).timeIntervalSince1970), tenantID: "tenant-b", byKey: true, limit: 100)
            let forged = UsageReportCursor(
                query: query, position: UsageReportPosition(bucket: query.from, tenantID: "tenant-a", keyID: a.keyID))
            let shifted = try await client.send(.get, "/v1/usage?cursor=\(forged.token)", key: hostile)
            #expect(shifted.status == .ok)
            #expect(try shifted.decode(UsageReportPage.self).items.allSatisfy { $0.tenantID == "tenant-b" })
            var scoped = forged
            scoped.tenantID = "tenant-a"
            let widened = try await client.send(.get, "/v1/usage?cursor=\(scoped.token)", key: hostile)
            #expect(widened.status == .badRequest && widened.json["error"]?["details"]?["field"] == "cursor")
            var everyone = forged
            everyone.tenantID = nil
            #expect(try await client.send(.get, "/v1/usage?cursor=\(everyone.token)", key: hostile).status == .badRequest)
            let forgedJSON = [
                #"{"g":"hour","f":0,"t":3600,"k":false,"p":{"bucket":7200,"tenantID":"x"}}"#,
                #"{"g":"hour","f":-9223372036854775808,"t":9223372036854775807,"k":false,"p":{"bucket":0,"tenantID":"x"}}"#,
                #"{"g":"day","f":0,"t":864000000,"k":false,"p":{"bucket":0,"tenantID":"x"}}"#,
                #"{"g":"hour","f":0,"t":7200,"k":true,"p":{"bucket":0,"tenantID":"x"}}"#,
            ]
            for token in ["garbage", "eyJ9"] + forgedJSON.map({ Base64URL.encode(Array($0.utf8)) }) {
                let reply = try await client.send(.get, "/v1/usage?cursor=\(token)", key: hostile)
                #expect(reply.status == .badRequest && reply.json["error"]?["details"]?["field"] == "cursor", "\(token)")
            }
        }
    }

    @Test func anOperatorSeesEveryTenantOrTheOneItNames() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let (a, b) = try await Self.twoTenants(harness, client)
            func rows(_ query: String, headers: [String: String] = [:]) async throws -> [UsageReportRowView] {
                let reply = try await client.send(
                    .get, "/v1/usage?\(Self.range)&\(query)", key: Harness.operatorKey, headers: headers)
                #expect(reply.status == .ok, "\(reply.text)")
                return try reply.decode(UsageReportPage.self).items
            }
            let all = try await rows("group_by=key")
            #expect(all.filter { $0.tenantID == "tenant-a" }.map(\.admitted) == [11, 12])
            #expect(all.filter { $0.tenantID == "tenant-b" }.map(\.keyID) == [b.keyID])
            let perTenant = try await rows("")
            #expect(perTenant.map(\.tenantID) == ["tenant-a", "tenant-a", "tenant-b"])
            #expect(try await rows("tenant_id=tenant-a").map(\.admitted) == [11, 12])
            #expect(try await rows("group_by=key", headers: ["X-Tenant-ID": "tenant-b"]).map(\.keyID) == [b.keyID])
            #expect(try await rows("tenant_id=tenant-a", headers: ["X-Tenant-ID": "tenant-a"]).count == 2)
            let both = try await client.send(
                .get, "/v1/usage?tenant_id=tenant-a", key: Harness.operatorKey, headers: ["X-Tenant-ID": "tenant-b"])
            #expect(both.status == .badRequest && both.json["error"]?["details"]?["field"] == "tenant_id")
            let unknown = try await client.send(.get, "/v1/usage?tenant_id=nope", key: Harness.operatorKey)
            #expect(unknown.status == .notFound && unknown.errorCode == "TENANT_NOT_FOUND")
            _ = a
        }
    }

    @Test func clientMinerAndNarrowedKeysAreRefused() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let narrowed = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "scopes": ["keys:read", "jobs:read"]"#)
            let reader = try await client.createKey(
                using: Harness.masterKey, role: "master", extra: #", "scopes": ["usage:read"]"#)
            for key in [Harness.clientKey, Harness.minerKey, try narrowed.secret()] {
                let reply = try await client.send(.get, "/v1/usage", key: key)
                #expect(reply.status == .forbidden && reply.errorCode == "INSUFFICIENT_SCOPE", "\(reply.text)")
            }
            #expect(try await client.send(.get, "/v1/usage", key: try reader.secret()).status == .ok)
            #expect(try await client.send(.get, "/v1/usage").status == .unauthorized)
        }
    }

    @Test func everyBadParameterIsA400NamingIt() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let cases: [(String, String)] = [
                ("from=yesterday", "from"), ("to=2026-13-01T00:00:00Z", "to"), ("from=1795000000", "from"),
                ("granularity=minute", "granularity"), ("group_by=miner", "group_by"),
                ("limit=0", "limit"), ("limit=1001", "limit"), ("limit=ten", "limit"), ("cursor=%00%01", "cursor"),
                ("from=2026-11-19T00:00:00Z&to=2026-11-19T00:00:00Z", "to"),
                ("from=2026-11-20T00:00:00Z&to=2026-11-19T00:00:00Z", "to"),
                ("from=2026-10-01T00:00:00Z&to=2026-11-19T00:00:00Z", "from"),
                ("granularity=day&from=2025-01-01T00:00:00Z&to=2026-11-19T00:00:00Z", "from"),
                ("from=2030-01-01T00:00:00Z", "from"), ("granularity=day&from=2025-01-01T00:00:00Z", "from"),
            ]
            for (query, field) in cases {
                let reply = try await client.send(.get, "/v1/usage?\(query)", key: Harness.masterKey)
                #expect(reply.status == .badRequest, "\(query): \(reply.status) \(reply.text)")
                #expect(reply.errorCode == "INVALID_REQUEST", "\(query)")
                #expect(reply.json["error"]?["details"]?["field"]?.stringValue == field, "\(query): \(reply.text)")
            }
            // The longest ranges allowed are answered.
            for query in [
                "from=2026-10-01T00:00:00Z&to=2026-11-01T00:00:00Z",
                "granularity=day&from=2025-11-01T00:00:00Z&to=2026-11-02T00:00:00Z",
            ] {
                #expect(try await client.send(.get, "/v1/usage?\(query)", key: Harness.masterKey).status == .ok, "\(query)")
            }
        }
    }

    @Test func csvCarriesTheSameRowsWithAHeaderAndPagesByLinkAndHeader() async throws {
        let harness = try await UsageReportTests.harness()
        try await harness.test { client in
            let (a, _) = try await Self.twoTenants(harness, client)
            let base = "/v1/usage?group_by=key&tenant_id=tenant-a&\(Self.range)"
            let json = try await client.send(.get, base, key: Harness.operatorKey).decode(UsageReportPage.self)
            let first = try await client.send(.get, base + "&limit=1", key: Harness.operatorKey, headers: ["Accept": "text/csv"])
            #expect(first.status == .ok)
            #expect(first.header("Content-Type") == "text/csv; charset=utf-8")
            let disposition = try #require(first.header("Content-Disposition"))
            #expect(disposition.hasPrefix("attachment; filename=\"usage-tenant-a-hour-") && disposition.hasSuffix(".csv\""))
            let start = UsageReportTests.stamp(-7200), end = UsageReportTests.stamp(-3600)
            #expect(first.text == "start,end,tenant_id,key_id,admitted,rate_limited,errors\r\n\(start),\(end),tenant-a,\(a.keyID),11,0,0\r\n")
            let cursor = try #require(first.header("X-Next-Cursor"))
            let link = try #require(first.header("Link"))
            #expect(link.hasPrefix("</v1/usage?") && link.hasSuffix(">; rel=\"next\"") && link.contains(cursor))
            let next = String(link.dropFirst().prefix { $0 != ">" })
            let second = try await client.send(.get, next, key: Harness.operatorKey, headers: ["Accept": "text/csv"])
            #expect(second.text.hasSuffix(",tenant-a,\(a.keyID),12,0,0\r\n"))
            #expect(second.text.hasPrefix("start,end,tenant_id,key_id,"))
            #expect(second.header("X-Next-Cursor") == nil && second.header("Link") == nil)
            // The CSV rows are the JSON rows.
            let whole = try await client.send(.get, base, key: Harness.operatorKey, headers: ["Accept": "text/csv"])
            #expect(whole.text == UsageReportCSV.render(json.items, byKey: true))
            let perTenant = try await client.send(
                .get, "/v1/usage?tenant_id=tenant-a&\(Self.range)", key: Harness.operatorKey, headers: ["Accept": "text/csv"])
            #expect(perTenant.text.hasPrefix("start,end,tenant_id,admitted,rate_limited,errors\r\n"))
            // Errors stay JSON; an Accept naming anything else is answered with JSON.
            let error = try await client.send(.get, "/v1/usage?limit=0", key: Harness.operatorKey, headers: ["Accept": "text/csv"])
            #expect(error.status == .badRequest && error.errorCode == "INVALID_REQUEST")
            for accept in ["application/xml", "*/*", "text/csv;q=0, application/json", "application/json, text/csv;q=0.5"] {
                let reply = try await client.send(.get, base, key: Harness.operatorKey, headers: ["Accept": accept])
                #expect(reply.header("Content-Type")?.hasPrefix("application/json") == true, "\(accept)")
            }
            let preferred = try await client.send(
                .get, base, key: Harness.operatorKey, headers: ["Accept": "application/json;q=0.5, text/csv"])
            #expect(preferred.header("Content-Type")?.hasPrefix("text/csv") == true)
        }
    }

    @Test func csvQuotesFieldsAsRFC4180Says() {
        let row = UsageReportRowView(
            start: UsageReportTests.at(0), end: UsageReportTests.at(3600), tenantID: "acme, \"inc\"", keyID: "key\r\nx",
            admitted: 1, rateLimited: 2, errors: 3)
        #expect(
            UsageReportCSV.render([row], byKey: true)
                == "start,end,tenant_id,key_id,admitted,rate_limited,errors\r\n"
                + "\(UsageReportTests.stamp(0)),\(UsageReportTests.stamp(3600)),\"acme, \"\"inc\"\"\",\"key\r\nx\",1,2,3\r\n")
        #expect(UsageReportCSV.quoted("plain") == "plain")
    }
}

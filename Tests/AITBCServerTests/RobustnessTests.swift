import AITBCDomain
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// No input yields a 500 or a non-JSON error: every route, every method, junk bodies and ids.
@Suite struct RobustnessTests {
    static let junkBodies = [
        "", "{", "}", "null", "[]", "[{}]", "0", "\"x\"", "true", #"{"name": null, "role": null}"#,
        #"{"name": "x", "role": "client", "rate_limit_per_minute": 1e308}"#,
        #"{"name": "x", "role": "client", "rate_limit_per_minute": 99999999999999999999999}"#,
        #"{"name": "x", "role": "client", "expires_at": 12}"#, #"{"grace_period_seconds": "soon"}"#,
        #"{"plan": 5, "rate_limit_per_minute": -1}"#, #"{"name": "\u0000", "role": "client"}"#,
        String(repeating: "[", count: 5000), "\u{FF}\u{FE}garbage",
    ]

    @Test func everyRouteAnswersJunkWithAJSONErrorNeverA5xx() async throws {
        let harness = try await Harness.make(configure: {
            $0.plans = PlanTable(limits: ["free": 60, "pro": 600, "enterprise": 100_000_000])
        })
        let routes = try buildRouter(coordinator: harness.coordinator, settings: harness.settings).apiRoutes
        try await harness.test { client in
            let ids = ["key_dev_client", "test-tenant", "..", "%00", "key_" + String(repeating: "z", count: 300), "ünïcode"]
            for route in routes {
                for id in ids {
                    let path = route.path.replacingOccurrences(of: "{key_id}", with: id)
                        .replacingOccurrences(of: "{tenant_id}", with: id)
                    for method in [HTTPRequest.Method.get, .post, .put, .patch, .delete] {
                        for body in Self.junkBodies.prefix(method == .get ? 1 : Self.junkBodies.count) {
                            for key in [Harness.masterKey, Harness.operatorKey] {
                                let reply = try await client.send(method, path, key: key, json: body)
                                #expect(reply.status.code < 500, "\(method) \(path) \(body.prefix(40)) → \(reply.text)")
                                if reply.status.code >= 400 {
                                    #expect(reply.errorCode != nil, "\(method) \(path) → \(reply.text)")
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// `/metrics`: Prometheus text for operators, with counts that move and no secrets in labels.
@Suite struct MetricsTests {
    @Test func operatorReadsCountersAndGaugesWithoutSecretsInLabels() async throws {
        try await Harness.make().test { client in
            let created = try await client.createKey(using: Harness.masterKey, name: "Acme's very private key")
            let secret = try #require(created.apiKey)
            for _ in 0..<3 { _ = try await client.send(.get, "/v1/me", key: secret) }
            _ = try await client.send(.get, "/v1/me", key: "not-a-key")
            _ = try await client.send(.get, "/health")
            _ = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#)
            _ = try await client.send(.post, "/v1/miners/register?miner_id=gpu-secret-name", key: Harness.minerKey, json: "{}")

            #expect(try await client.send(.get, "/metrics").status == .unauthorized)
            #expect(try await client.send(.get, "/metrics", key: Harness.masterKey).errorCode == "INSUFFICIENT_SCOPE")
            let reply = try await client.send(.get, "/metrics", key: Harness.operatorKey)
            #expect(reply.status == .ok)
            #expect(reply.header("Content-Type")?.hasPrefix("text/plain") == true)
            let text = reply.text
            #expect(text.contains(#"aitbc_http_requests_total{method="GET",route="/v1/me",status="200"} 3"#))
            #expect(text.contains(#"aitbc_http_requests_total{method="GET",route="/health",status="200"} 1"#))
            #expect(text.contains(#"aitbc_authentications_total{outcome="INVALID_API_KEY"} 1"#))
            #expect(text.contains("aitbc_key_cache_hit_ratio"))
            #expect(text.contains("aitbc_storage_average_seconds"))
            #expect(text.contains(#"aitbc_jobs{state="QUEUED"} 1"#))
            #expect(text.contains("aitbc_miners_online 1"))
            #expect(text.contains("aitbc_rate_limited_total"))
            for forbidden in [secret, Harness.clientKey, Harness.operatorKey, "test-tenant", created.keyID, "Acme", "gpu-secret-name"] {
                #expect(!text.contains(forbidden), "\(forbidden) appeared in /metrics")
            }
        }
    }
}

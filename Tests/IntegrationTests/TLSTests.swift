import AITBCTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import Testing

/// HTTPS with a certificate the test makes itself: TLS 1.2+ works, plain HTTP and TLS 1.1 do not.
@Suite(.serialized) struct TLSTests {
    @Test func servesHTTPSWithTheConfiguredCertificate() async throws {
        let (certificate, key) = try TestCertificate.make()

        let port = try CoordinatorProcess.freePort()
        var environment = try await CoordinatorProcess.environment(databasePath: CoordinatorProcess.temporaryDatabase(), port: port)
        environment.merge([
            "AITBC_TLS_CERT": certificate, "AITBC_TLS_KEY": key,
            "CLIENT_API_KEY": "tls-client-key-000000001", "MINER_API_KEY": "tls-miner-key-0000000001",
            "OPERATOR_API_KEY": "tls-operator-key-0000001",
        ]) { $1 }
        let process = try ChildProcess.spawn(try CoordinatorProcess.binaryPath(), [], environment: environment)
        defer {
            process.terminate()
            process.waitUntilExit()
        }

        var trusting = TLSConfiguration.makeClientConfiguration()
        trusting.trustRoots = .file(certificate)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: trusting))

        var healthy = false
        for _ in 0..<200 where !healthy {
            if let response = try? await client.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(2)),
                response.status == .ok
            {
                healthy = true
            } else {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        #expect(healthy, "the server answered over HTTPS")
        var request = HTTPClientRequest(url: "https://127.0.0.1:\(port)/v1/me")
        request.headers.add(name: "X-API-Key", value: "tls-client-key-000000001")
        let me = try await client.execute(request, timeout: .seconds(5))
        #expect(me.status == .ok)
        // Serving HTTPS itself, the coordinator tells browsers to stay on it.
        #expect(me.headers.first(name: "Strict-Transport-Security") == "max-age=31536000")

        // A miner that leaves its long-poll over TLS (close_notify first, the TCP close seconds later)
        // is not handed the next job.
        func call(_ method: HTTPMethod, _ path: String, key: String, body: String? = nil) async throws -> [String: Any] {
            try await CoordinatorProcess.send(method, "https://127.0.0.1:\(port)\(path)", key: key, body: body, client: client).json
        }
        let miner = "tls-miner-key-0000000001", clientKey = "tls-client-key-000000001"
        /// The polls waiting in the server's queue, each watching its connection (from `/metrics`).
        func queuedPolls() async throws -> Int? {
            let metrics = try await CoordinatorProcess.send(
                .GET, "https://127.0.0.1:\(port)/metrics", key: "tls-operator-key-0000001", client: client)
            let line = metrics.body.split(separator: "\n").first { $0.hasPrefix("aitbc_long_polls_queued ") }
            return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) }
        }
        func waitForQueuedPolls(_ count: Int, within limit: Duration) async throws {
            let deadline = ContinuousClock.now + limit
            while try await queuedPolls() != count {
                guard ContinuousClock.now < deadline else {
                    Issue.record("\(try await queuedPolls().map(String.init) ?? "no") polls queued, not \(count), after \(limit)")
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        _ = try await call(.POST, "/v1/miners/register?miner_id=m1", key: miner, body: "{}")
        #expect(try await queuedPolls() == 0)
        let polling = Task { _ = try await call(.POST, "/v1/miners/poll?miner_id=m1", key: miner, body: #"{"max_wait_seconds": 30}"#) }
        // Leave only once the poll waits (and watches its connection)...
        try await waitForQueuedPolls(1, within: .seconds(15))
        polling.cancel()
        _ = try? await polling.value
        // ...and the server lets it go on the close_notify, well before its 30 s wait runs out.
        try await waitForQueuedPolls(0, within: .seconds(10))
        let job = try await call(.POST, "/v1/jobs", key: clientKey, body: #"{"payload": {"n": 1}}"#)
        let jobID = try #require(job["job_id"] as? String)
        #expect(try await call(.GET, "/v1/jobs/\(jobID)", key: clientKey)["state"] as? String == "QUEUED")

        // Plain HTTP to the TLS port gets no HTTP answer.
        let plain = try? await CoordinatorProcess.httpClient.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/health"), timeout: .seconds(3))
        #expect(plain?.status != .ok)

        // A client limited to TLS 1.1 is refused.
        var old = trusting
        old.minimumTLSVersion = .tlsv1
        old.maximumTLSVersion = .tlsv11
        let oldClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: old))
        await #expect(throws: (any Error).self) {
            _ = try await oldClient.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/health"), timeout: .seconds(3))
        }
        try await client.shutdown()
        try await oldClient.shutdown()
    }
}

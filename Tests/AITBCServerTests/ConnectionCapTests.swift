import AITBCServer
import Foundation
import Testing

/// The cap on open connections over real sockets: the connection beyond it is not served while the
/// others are open (they keep working), and is served as soon as one of them closes.
@Suite(.serialized) struct ConnectionCapTests {
    @Test func theConnectionBeyondTheCapWaitsWhileTheOpenOnesKeepWorking() async throws {
        let harness = try await Harness.make { $0.maximumConnections = 3 }
        try await harness.serve { port in
            var open: [WireClient] = []
            for _ in 0..<3 {
                let connection = try await WireClient.connect(port: port)
                #expect(try await connection.request("GET", "/health").status == 200)
                open.append(connection)
            }
            #expect(harness.coordinator.connections.current == 3)

            // The kernel completes the fourth TCP handshake, but the server does not take it.
            let fourth = try await WireClient.connect(port: port)
            try await fourth.sendRequest("GET", "/health")
            for connection in open {
                #expect(try await connection.request("GET", "/health").status == 200, "an open connection stopped working")
            }
            #expect(try await fourth.response(within: .seconds(2)) == nil, "the connection beyond the cap was served")
            #expect(harness.coordinator.connections.current == 3)
            // The operator sees it in /metrics.
            let metrics = try await open[0].request("GET", "/metrics", key: Harness.operatorKey)
            let gauge = metrics.body.split(separator: "\n").first { $0.hasPrefix("aitbc_open_connections ") }
            #expect(gauge.flatMap { Double($0.split(separator: " ")[1]) } == 3, "\(gauge ?? "no gauge")")

            // One closes: the waiting one is accepted and answered.
            await open.removeFirst().close()
            let answer = try #require(try await fourth.response(within: .seconds(15)), "the waiting connection was never served")
            #expect(answer.status == 200)
            #expect(harness.coordinator.connections.current == 3)
            for connection in open + [fourth] { await connection.close() }
        }
    }
}

import Foundation
import Testing

/// SIGTERM on the real process: long-polls answer 204, in-flight work finishes, batched usage is
/// written, the process exits promptly.
@Suite(.serialized) struct ShutdownTests {
    static let client = "shutdown-client-key-00001"
    static let miner = "shutdown-miner-key-000001"
    static let master = "shutdown-master-key-00001"
    static let operatorKey = "shutdown-operator-key-001"

    @Test func sigtermDrainsAndLosesNoAcknowledgedUsage() async throws {
        let database = CoordinatorProcess.temporaryDatabase()
        let environment = [
            "CLIENT_API_KEY": Self.client, "MINER_API_KEY": Self.miner, "MASTER_API_KEY": Self.master,
            "OPERATOR_API_KEY": Self.operatorKey,
            // Only the flush at shutdown can write the counts.
            "AITBC_USAGE_FLUSH_SECONDS": "3600",
        ]
        let server = try await CoordinatorProcess.start(databasePath: database, environment: environment)
        let requests = 37
        for _ in 0..<requests {
            #expect(try await server.request(.GET, "/v1/jobs", key: Self.client).status == 200)
        }
        let exited = try await withThrowingTaskGroup(of: (Int, Duration).self) { group in
            group.addTask {
                let start = ContinuousClock.now
                let reply = try await server.request(.POST, "/v1/miners/poll", key: Self.miner, body: #"{"max_wait_seconds": 30}"#)
                return (reply.status, ContinuousClock.now - start)
            }
            // SIGTERM only once the poll is held by the server: a poll still on its way when the
            // listener closes would be refused, not drained.
            let deadline = ContinuousClock.now + .seconds(30)
            while try await JobFlowOverSocketsTests.queuedPolls(on: server, operatorKey: Self.operatorKey) != 1 {
                try #require(ContinuousClock.now < deadline, "the poll never reached the server")
                try await Task.sleep(for: .milliseconds(20))
            }
            let signalled = ContinuousClock.now
            server.process.terminate()  // SIGTERM
            let (status, waited) = try #require(try await group.next())
            #expect(status == 204)
            #expect(waited < .seconds(5))
            server.process.waitUntilExit()
            return ContinuousClock.now - signalled
        }
        #expect(exited < .seconds(10))
        #expect(server.process.terminationStatus == 0)

        let restarted = try await CoordinatorProcess.start(databasePath: database, environment: environment)
        defer { restarted.terminate() }
        let usage = try await restarted.request(.GET, "/v1/api-keys/key_dev_client/usage", key: Self.master)
        let totals = try #require(usage.json["totals"] as? [String: Any])
        #expect(totals["admitted"] as? Int == requests)
    }
}

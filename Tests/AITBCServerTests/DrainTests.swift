import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// What a graceful shutdown does inside the server: not ready, long-polls released.
@Suite struct DrainTests {
    @Test func drainTurnsReadyUnreadyAndReleasesLongPolls() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            #expect(try await client.send(.get, "/ready").status == .ok)
            try await withThrowingTaskGroup(of: Reply.self) { group in
                group.addTask {
                    try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 30}"#)
                }
                // Drain only once the poll waits in the queue: then only the drain can answer it in time.
                try await waitUntil { await harness.coordinator.miners.waitingPolls() == 1 }
                let start = ContinuousClock.now
                await harness.coordinator.beginDrain()
                let polled = try #require(try await group.next())
                #expect(polled.status == .noContent)
                // Released by the drain, not by its 30 s wait running out (with room for a loaded machine).
                #expect(ContinuousClock.now - start < .seconds(5))
            }
            #expect(await harness.coordinator.miners.waitingPolls() == 0)
            let ready = try await client.send(.get, "/ready")
            #expect(ready.status == .serviceUnavailable)
            #expect(ready.errorCode == "DRAINING")
            // New polls answer at once; jobs stay queued for the next start.
            let jobID = try #require(
                try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": {}}"#).json["job_id"]?.stringValue)
            let start = ContinuousClock.now
            #expect(try await client.send(.post, "/v1/miners/poll", key: Harness.minerKey, json: #"{"max_wait_seconds": 30}"#).status == .noContent)
            #expect(ContinuousClock.now - start < .seconds(5))
            #expect(try await client.send(.get, "/v1/jobs/\(jobID)", key: Harness.clientKey).json["state"] == "QUEUED")
        }
    }
}

import AITBCServer
import AITBCTestSupport
import Foundation
import Testing

/// A long-poll waiting for work is answered with a submitted job as soon as the submission's write has
/// committed: no timer, interval or tick comes between the two. The queue's clock never moves here: a
/// poll's deadline never comes, and the sweeper and (on PostgreSQL) the reconciliation, which sleep on
/// the same clock, never run after their first pass; so a hand-off that waited for any of them would
/// hang. Over real sockets every hand-off must also come back far sooner than a 1 s timer of the wall
/// clock would allow.
@Suite(.serialized, .timeLimit(.minutes(3))) struct HandoffWithoutTimersTests {
    @Test func waitingPollsGetSubmittedJobsWhileTheirClockNeverMoves() async throws {
        // Never advanced: it stands still for the whole test.
        let clock = TestClock()
        let harness = try await Harness.make(pollClock: clock)
        try await harness.serve { port in
            let miner = try await WireClient.connect(port: port)
            let registered = try await miner.request(
                "POST", "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, body: #"{"concurrency": 1}"#)
            #expect(registered.status == 200)
            var latencies: [Duration] = []
            for index in 0..<20 {
                try await miner.sendRequest(
                    "POST", "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, body: #"{"max_wait_seconds": 30}"#)
                // The poll waits in the queue, its deadline on the frozen clock, before the job is submitted.
                try await waitUntil { await harness.coordinator.miners.waitingPolls() == 1 }
                let submittedAt = ContinuousClock.now
                let submitted = try await WireClient.call(
                    port: port, "POST", "/v1/jobs", key: Harness.clientKey, body: #"{"payload": {"n": \#(index)}}"#)
                #expect(submitted.status == 201)
                let assigned = try #require(try await miner.response(within: .seconds(60)), "the waiting poll got no job")
                latencies.append(ContinuousClock.now - submittedAt)
                #expect(assigned.status == 200)
                let jobID = try #require(submitted.json["job_id"] as? String)
                #expect(assigned.json["job_id"] as? String == jobID)
                let done = try await miner.request(
                    "POST", "/v1/miners/\(jobID)/result?miner_id=gpu-1", key: Harness.minerKey, body: #"{"result": {"n": 1}}"#)
                #expect(done.status == 200)
            }
            // Wide bounds for a loaded machine: a hand-off that waited for a 1 s timer would exceed them.
            latencies.sort()
            #expect(latencies[latencies.count / 2] < .milliseconds(300), "median hand-off \(latencies[latencies.count / 2])")
            #expect(latencies.filter { $0 >= .milliseconds(900) }.count <= 2, "hand-offs: \(latencies)")
            await miner.close()
        }
    }
}

import AITBCServer
import AITBCTestSupport
import Foundation
import Testing

/// A long-poll whose client has gone is not handed a job, over real sockets: also when the client
/// closed its side before the poll began to watch the connection (the poll's watcher is added only
/// once it is about to wait).
@Suite(.serialized) struct PollPresenceTests {
    @Test func aPollWhoseClientClosedItsSideAsItArrivedEndsAndTheJobWaitsForAMinerThatIsThere() async throws {
        let harness = try await Harness.make()
        try await harness.serve { port in
            let registered = try await WireClient.call(
                port: port, "POST", "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, body: "{}")
            #expect(registered.status == 200)
            // The poll and the client's FIN leave together: the server reads both before the poll
            // starts waiting.
            let departing = try await WireClient.connect(port: port)
            try await departing.sendRequest(
                "POST", "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, body: #"{"max_wait_seconds": 60}"#)
            await departing.closeOutput()
            // The poll ends at once (its answer can still be read on the half-closed connection),
            // not after its 60 s: 20 s leaves a loaded machine room and still tells the two apart.
            let ended = try #require(try await departing.response(within: .seconds(20)))
            #expect(ended.status == 204)
            #expect(harness.coordinator.longPolls.waiting(tenantID: "test-tenant") == 0)

            // A job submitted now stays queued for a miner that is there, which gets it.
            let submitted = try await WireClient.call(
                port: port, "POST", "/v1/jobs", key: Harness.clientKey, body: #"{"payload": {"n": 1}}"#)
            #expect(submitted.status == 201)
            let jobID = try #require(submitted.json["job_id"] as? String)
            let queued = try await WireClient.call(port: port, "GET", "/v1/jobs/\(jobID)", key: Harness.clientKey)
            #expect(queued.json["state"] as? String == "QUEUED")
            let taken = try await WireClient.call(
                port: port, "POST", "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, body: #"{"max_wait_seconds": 5}"#)
            #expect(taken.status == 200)
            #expect(taken.json["job_id"] as? String == jobID)
        }
    }
}

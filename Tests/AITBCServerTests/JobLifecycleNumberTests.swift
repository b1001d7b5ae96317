import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// A job's numbers reach the miner, and its result's the client, exactly as sent, as they do through
/// AITBC's Python coordinator: every digit of an integer beyond 64 bits, and a whole float as a float.
@Suite struct JobLifecycleNumberTests {
    static let payload = #"{"big": 12345678901234567890, "e": 1e16, "f": 2.0, "neg": -1180591620717411303424, "t": 1e-7, "z": -0.0}"#
    /// Python: json.dumps(json.loads(payload), sort_keys=True, separators=(",", ":")).
    static let python = #"{"big":12345678901234567890,"e":1e+16,"f":2.0,"neg":-1180591620717411303424,"t":1e-07,"z":-0.0}"#

    @Test func theMinerAndTheClientGetThePayloadsNumbersByteForByte() async throws {
        try await Harness.make().test { client in
            let submitted = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: #"{"payload": \#(Self.payload)}"#)
            #expect(submitted.status == .created)
            let jobID = try #require(submitted.json["job_id"]?.stringValue)

            _ = try await client.send(.post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: "{}")
            let polled = try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
            #expect(polled.json["job_id"]?.stringValue == jobID)
            #expect(polled.text.contains(#""payload":\#(Self.python)"#))
            let parsed = try JSONValue(parsing: Array(polled.body.readableBytesView))
            #expect(parsed["payload"]?["big"] == .largeInteger("12345678901234567890"))
            #expect(parsed["payload"]?["f"] == .double(2.0))

            let reported = try await client.send(
                .post, "/v1/miners/\(jobID)/result?miner_id=gpu-1", key: Harness.minerKey,
                json: #"{"result": {"tokens": 98765432109876543210, "score": 3.0}}"#)
            #expect(reported.status == .ok)
            let result = try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey)
            #expect(result.text.contains(#""result":{"score":3.0,"tokens":98765432109876543210}"#))
        }
    }
}

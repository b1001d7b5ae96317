import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@testable import AITBCServer

/// Signed receipts in AITBC's format: issued with the job's completion or failure, visible as the job
/// is, verifying against the public keys the coordinator lists.
@Suite struct ReceiptTests {
    static let payload = #"{"payload": {"prompt": "caf\u00e9 \ud83d\ude80 \u2028 \"q\" \\ /", "n": 9007199254740993, "f": [0.1, 1e-7, 1e21, 2.5], "nested": {"gone": null}}, "constraints": {"region": "eu"}}"#

    /// Submits a job, runs it on miner `gpu-1` and reports `report` (`result` or `fail`) with `body`.
    static func runJob(_ client: some TestClientProtocol, report: String = "result", body: String) async throws -> String {
        let submitted = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: payload)
        let jobID = try #require(submitted.json["job_id"]?.stringValue)
        _ = try await client.send(.post, "/v1/miners/register?miner_id=gpu-1", key: Harness.minerKey, json: #"{"region": "eu"}"#)
        let polled = try await client.send(.post, "/v1/miners/poll?miner_id=gpu-1", key: Harness.minerKey, json: #"{"max_wait_seconds": 0}"#)
        #expect(polled.json["job_id"]?.stringValue == jobID)
        let reported = try await client.send(.post, "/v1/miners/\(jobID)/\(report)?miner_id=gpu-1", key: Harness.minerKey, json: body)
        #expect(reported.status == .ok)
        return jobID
    }

    /// The body as the wire decoder reads it (as a client verifying it would).
    static func wire(_ reply: Reply) throws -> JSONValue {
        try JSONValue(parsing: Array(reply.body.readableBytesView))
    }

    @Test func aCompletedJobsReceiptIsSignedInAITBCsFormatAndVerifies() async throws {
        let harness = try await Harness.make()
        let keyID = try #require(harness.coordinator.receipts.currentKeyID)
        try await harness.test { client in
            let jobID = try await Self.runJob(
                client, body: #"{"result": {"text": "\u00e9\u2029", "big": 12345678901234567890, "z": -0.0, "list": [1, null]}, "metrics": {"duration_ms": 1500}}"#)
            let reply = try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey)
            #expect(reply.status == .ok)
            let receipt = try Self.wire(reply)
            #expect(ReceiptCheck.verifies(receipt, keyID: keyID))
            #expect(receipt["version"] == "1.0")
            #expect(receipt["receipt_id"]?.stringValue?.count == 32)
            #expect(receipt["job_id"]?.stringValue == jobID)
            #expect(receipt["provider"] == "gpu-1")
            #expect(receipt["status"] == "COMPLETED")
            #expect(receipt["units"] == .double(1.5))
            #expect(receipt["unit_type"] == "gpu_seconds")
            #expect(receipt["unit_price"] == .double(0.02))
            #expect(receipt["price"] == .double(0.03))
            #expect(receipt["completed_at"] == .int(1_795_000_000))
            #expect(receipt["metadata"]?["job_payload"]?["n"] == .int(9_007_199_254_740_993))
            #expect(receipt["metadata"]?["job_constraints"]?["region"] == "eu")
            #expect(receipt["metadata"]?["result"]?["text"] == "\u{e9}\u{2029}")
            #expect(receipt["metadata"]?["metrics"]?["duration_ms"] == 1500)
            #expect(receipt["signature"]?["alg"] == "Ed25519")
            // The text served is the canonical form (nulls kept): what a verifier reads is what was signed.
            #expect(reply.text == CanonicalJSON.string(receipt, removingNulls: false))
            #expect(reply.text.contains(#""\u00e9\u2029""#))
            // Every digit of an integer beyond 64 bits, and -0.0 a float, as Python keeps them.
            #expect(receipt["metadata"]?["result"]?["big"] == .largeInteger("12345678901234567890"))
            #expect(reply.text.contains(#""big":12345678901234567890,"#))
            #expect(reply.text.contains(#""z":-0.0}"#))

            // The result route serves the same receipt; the list holds it.
            let result = try Self.wire(try await client.send(.get, "/v1/jobs/\(jobID)/result", key: Harness.clientKey))
            #expect(result["receipt"] == receipt)
            #expect(ReceiptCheck.verifies(try #require(result["receipt"])))
            let list = try Self.wire(try await client.send(.get, "/v1/jobs/\(jobID)/receipts", key: Harness.clientKey))
            #expect(list["items"] == .array([receipt]))
        }
    }

    @Test func aChangedFieldOrAnotherKeyFailsVerification() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let jobID = try await Self.runJob(client, body: #"{"result": {"ok": true}, "metrics": {"duration_ms": 2000}}"#)
            let reply = try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey)
            let receipt = try Self.wire(reply)
            #expect(ReceiptCheck.verifies(receipt))
            // duration_ms / 1000 is a float in Python: 2.0, not 2.
            #expect(receipt["units"] == .double(2.0))
            #expect(reply.text.contains(#""units":2.0,"#))
            var changed = try #require(receipt.objectValue)
            changed["price"] = .double(0.05)
            #expect(!ReceiptCheck.verifies(.object(changed)))
            changed = receipt.objectValue ?? [:]
            changed["metadata"] = ["result": ["ok": false]]
            #expect(!ReceiptCheck.verifies(.object(changed)))
            // Re-signed by another key: it verifies only against that key, not the coordinator's.
            let other = try ReceiptSigner(seed: .generate())
            var payload = receipt.objectValue ?? [:]
            payload["signature"] = nil
            #expect(!ReceiptCheck.verifies(.object(try other.signed(payload)), keyID: harness.coordinator.receipts.currentKeyID))
        }
    }

    @Test func aFailedJobGetsAReceiptWithItsStatusAndError() async throws {
        try await Harness.make().test { client in
            let jobID = try await Self.runJob(
                client, report: "fail", body: #"{"error_code": "OOM", "error_message": "out of memory", "metrics": {"units": 3, "unit_price": 0.5}}"#)
            let receipt = try Self.wire(try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey))
            #expect(ReceiptCheck.verifies(receipt))
            #expect(receipt["status"] == "FAILED")
            // Python's float(3): the receipt says 3.0, a float, as AITBC's does.
            #expect(receipt["units"] == .double(3.0))
            #expect(receipt["price"] == .double(1.5))
            #expect(receipt["metadata"]?["result"] == .null)
            #expect(receipt["metadata"]?["error"]?["code"]?.stringValue != nil)
        }
    }

    @Test func thereIsNoReceiptBeforeTheJobFinishes() async throws {
        try await Harness.make().test { client in
            let submitted = try await client.send(.post, "/v1/jobs", key: Harness.clientKey, json: Self.payload)
            let jobID = try #require(submitted.json["job_id"]?.stringValue)
            let missing = try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey)
            #expect(missing.status == .notFound)
            #expect(missing.errorCode == "NOT_FOUND")
            let list = try await client.send(.get, "/v1/jobs/\(jobID)/receipts", key: Harness.clientKey)
            #expect(list.status == .ok)
            #expect(list.json["items"] == .array([]))
            let unknown = try await client.send(.get, "/v1/jobs/job_nope/receipt", key: Harness.clientKey)
            #expect(unknown.status == .notFound)
        }
    }

    @Test func receiptsAreVisibleAsTheirJobIs() async throws {
        try await Harness.make().test { client in
            let jobID = try await Self.runJob(client, body: #"{"result": 1}"#)
            let mine = try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: Harness.clientKey)
            #expect(mine.status == .ok)
            let tenant = try await client.createTenant("other")
            let otherMaster = try #require(tenant.masterKey?.apiKey)
            for path in ["receipt", "receipts"] {
                let other = try await client.send(.get, "/v1/jobs/\(jobID)/\(path)", key: otherMaster)
                #expect(other.status == .notFound)
                #expect(!other.text.contains("signature"))
                let anonymous = try await client.send(.get, "/v1/jobs/\(jobID)/\(path)")
                #expect(anonymous.status == .unauthorized)
            }
            let narrowed = try await client.createKey(using: Harness.masterKey, extra: #", "scopes": ["jobs:write"]"#)
            let refused = try await client.send(.get, "/v1/jobs/\(jobID)/receipt", key: try narrowed.secret())
            let asForTheJob = try await client.send(.get, "/v1/jobs/\(jobID)", key: try narrowed.secret())
            #expect(refused.status == .forbidden)
            #expect(refused.status == asForTheJob.status)
        }
    }

    @Test func theKeysArePublicAndNameTheCurrentKey() async throws {
        let harness = try await Harness.make()
        let keyID = try #require(harness.coordinator.receipts.currentKeyID)
        try await harness.test { client in
            let reply = try await client.send(.get, "/v1/receipts/keys")
            #expect(reply.status == .ok)
            let keys = try reply.decode(ItemList<ReceiptKeyView>.self).items
            #expect(keys.map(\.keyID) == [keyID])
            #expect(keys.first?.current == true)
            #expect(keys.first?.alg == "Ed25519")
            #expect(keys.first?.publicKey == keyID)
            #expect(Base64URL.decode(keyID)?.count == 32)
            let withKey = try await client.send(.get, "/v1/receipts/keys", key: Harness.clientKey)
            #expect(withKey.status == .ok)
            let wrongMethod = try await client.send(.post, "/v1/receipts/keys")
            #expect(wrongMethod.status != .ok)
        }
    }
}

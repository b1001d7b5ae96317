import AITBC
import AITBCDomain
import Foundation
import Testing

/// The SDK's receipt calls and its verifier against a live server.
@Suite struct ReceiptSDKTests {
    @Test func theSDKFetchesAndVerifiesReceiptsAndRejectsChangedOnes() async throws {
        try await LiveServer.run { url, _ in
            let client = try LiveServer.sdk(url, key: LiveServer.client)
            let miner = try LiveServer.sdk(url, key: LiveServer.miner)
            let job = try await client.jobs.create(payload: ["prompt": "h\u{e9}llo \u{1F680}\u{2028}", "x": 0.1, "n": nil, "w": 2.0, "big": .largeInteger("12345678901234567890")])
            await #expect(throws: NotFoundError.self) { try await client.jobs.receipt(job.jobID) }
            #expect(try await client.jobs.receipts(job.jobID).isEmpty)
            _ = try await miner.miners.register(minerID: "gpu-1", capabilities: [:], concurrency: 1)
            let assigned = try #require(try await miner.miners.poll(minerID: "gpu-1", maxWait: .seconds(2)))
            // Sent and received with every number as given: 2.0 a float, the large integer in full.
            #expect(assigned.payload["w"] == .double(2.0))
            #expect(assigned.payload["big"] == .largeInteger("12345678901234567890"))
            try await miner.miners.submitResult(assigned.jobID, minerID: "gpu-1", result: ["big": 1e21], metrics: ["duration_ms": 250])

            let receipt = try await client.jobs.receipt(job.jobID)
            #expect(try await client.jobs.receipts(job.jobID) == [receipt])
            let keys = try await client.receiptKeys()
            #expect(keys.count == 1)
            #expect(keys.first?.current == true)
            let verifier = ReceiptVerifier(keys: keys)
            try verifier.check(receipt)
            #expect(verifier.verify(receipt))
            #expect(receipt["units"] == .double(0.25))
            #expect(ReceiptVerifier(keys: keys).verify(try await client.jobs.result(job.jobID).receipt))

            var changed = receipt
            changed["client"] = "someone else"
            #expect(throws: ReceiptVerifier.Failure.badSignature) { try verifier.check(changed) }
            changed = receipt
            changed["signature"] = nil
            #expect(throws: ReceiptVerifier.Failure.malformedSignature) { try verifier.check(changed) }
            // A verifier that does not trust the coordinator's key does not take the receipt's word for it.
            #expect(throws: ReceiptVerifier.Failure.self) { try ReceiptVerifier(keys: []).check(receipt) }
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import Testing

/// The receipt payload is built field for field as AITBC's `ReceiptService.create_receipt` builds it.
@Suite struct ReceiptPayloadTests {
    static let requested = Date(timeIntervalSince1970: 1_795_000_000.9)
    static let job = Job(
        id: "job_1", tenantID: "t1", clientKeyID: "key_c", payload: ["p": 1], constraints: nil, state: .running,
        assignedMinerID: "gpu-1", ttlSeconds: 900, requestedAt: requested, expiresAt: requested.addingTimeInterval(900),
        startedAt: requested.addingTimeInterval(2))

    static func payload(result: JSONValue = .null, metrics: [String: JSONValue]?) -> [String: JSONValue] {
        ReceiptPayload.make(
            job: job, outcome: .completed(result: result), metrics: metrics, receiptID: "r1",
            now: requested.addingTimeInterval(10.7))
    }

    @Test func withoutMetricsUnitsAndPriceAreZeroAtTheDefaultUnitPrice() {
        let payload = Self.payload(metrics: nil)
        #expect(payload["version"] == "1.0")
        #expect(payload["units"] == .double(0))
        #expect(payload["unit_type"] == "gpu_seconds")
        #expect(payload["unit_price"] == .double(0.02))
        #expect(payload["price"] == .double(0))
        #expect(payload["provider"] == "gpu-1")
        #expect(payload["client"] == "key_c")
        #expect(payload["status"] == "COMPLETED")
        #expect(payload["started_at"] == .int(1_795_000_002))
        #expect(payload["completed_at"] == .int(1_795_000_011))
        #expect(payload["metadata"]?["metrics"] == .null)
        #expect(payload["metadata"]?["job_constraints"] == .null)
    }

    @Test func unitsComeFromMetricsThenResultThenDurations() {
        #expect(Self.payload(metrics: ["units": "2.5", "duration_ms": 9000])["units"] == .double(2.5))
        #expect(Self.payload(result: ["units": 4], metrics: ["duration_ms": 9000])["units"] == .double(4))
        #expect(Self.payload(metrics: ["duration_ms": 1234])["units"] == .double(1.234))
        #expect(Self.payload(metrics: ["compute_time": 7])["units"] == .double(7))
        #expect(Self.payload(result: ["execution_time": 3.5], metrics: [:])["units"] == .double(3.5))
        #expect(Self.payload(metrics: ["units": ["not": "a number"]])["units"] == .double(0))
        #expect(Self.payload(result: ["unit_type": "tokens"], metrics: nil)["unit_type"] == "tokens")
    }

    @Test func priceIsTheFirstOneGivenElseUnitsTimesUnitPriceRoundedToSixPlaces() {
        #expect(Self.payload(metrics: ["duration_ms": 1234, "unit_price": 0.1234567])["price"] == .double(0.152346))
        #expect(Self.payload(result: ["price": 9, "cost": 1], metrics: ["aitbc_earned": 5])["price"] == .double(9))
        #expect(Self.payload(result: ["cost": 1], metrics: ["aitbc_earned": 5])["price"] == .double(5))
        #expect(Self.payload(result: ["cost": 1.5], metrics: nil)["price"] == .double(1.5))
        // Whole products (no units at all, the usual receipt) and fractional ones round alike.
        #expect(Self.payload(metrics: nil)["price"] == .double(0))
        #expect(Self.payload(metrics: ["units": 7, "unit_price": 2])["price"] == .double(14))
        #expect(Self.payload(metrics: ["units": 3, "unit_price": 0.5])["price"] == .double(1.5))
        #expect(Self.payload(metrics: ["units": 3, "unit_price": 0.1])["price"] == .double(0.3))
    }

    @Test func aFailedJobsPayloadCarriesItsStatusAndError() {
        let payload = ReceiptPayload.make(
            job: Self.job, outcome: .failed(JobFailure(code: "OOM", message: "out of memory")), metrics: nil,
            receiptID: "r1", now: Self.requested)
        #expect(payload["status"] == "FAILED")
        #expect(payload["metadata"]?["result"] == .null)
        #expect(payload["metadata"]?["error"] == ["code": "OOM", "message": "out of memory"])
    }

    @Test func theSignerSignsTheCanonicalPayloadWithRFC8032sKey() throws {
        let seed = try #require(ReceiptSigningSeed(hex: "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        let signer = try ReceiptSigner(seed: seed)
        #expect(signer.keyID == "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
        let receipt = try signer.signed(Self.payload(metrics: nil))
        #expect(receipt["signature"]?["alg"] == "Ed25519")
        #expect(receipt["signature"]?["key_id"] == .string(signer.keyID))
        #expect(receipt["signature"]?["sig"]?.stringValue.flatMap(Base64URL.decode)?.count == 64)
        #expect("\(seed)" == "ReceiptSigningSeed(redacted)")
    }
}

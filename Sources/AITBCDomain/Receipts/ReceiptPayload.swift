import AITBCWire
import Foundation

/// The payload of a job's receipt, field for field as AITBC's coordinator builds it
/// (`ReceiptService.create_receipt`): `version`, `receipt_id` (32 hex digits), `job_id`, `provider`
/// (the miner), `client` (the submitting key), `status`, `units` and `unit_type` (from the miner's
/// metrics or result; by default `metrics.duration_ms / 1000` GPU seconds), `unit_price` (default
/// 0.02), `price` (default `round(units × unit_price, 6)`), `started_at` and `completed_at` (Unix
/// seconds) and `metadata {job_payload, job_constraints, result, metrics}` — plus `error {code,
/// message}` in the metadata of a failed job's receipt.
public enum ReceiptPayload {
    /// What the job came to.
    public enum Outcome: Sendable {
        case completed(result: JSONValue)
        case failed(JobFailure)
    }

    /// The payload for `job` (RUNNING, as last read) ending with `outcome` at `now`.
    public static func make(
        job: Job, outcome: Outcome, metrics: [String: JSONValue]?, receiptID: String, now: Date
    ) -> [String: JSONValue] {
        let measured = metrics ?? [:]
        var result: [String: JSONValue] = [:]
        var resultValue = JSONValue.null
        var status = JobState.completed
        var failure: JobFailure?
        switch outcome {
        case .completed(let value):
            resultValue = value
            result = value.objectValue ?? [:]
        case .failed(let reported):
            status = .failed
            failure = reported
        }
        let unitType = firstPresent([measured["unit_type"], result["unit_type"]]) ?? "gpu_seconds"
        var units = number(firstPresent([measured["units"], result["units"]]))
        if units == nil {
            if let milliseconds = number(measured["duration_ms"]) {
                units = milliseconds / 1000
            } else {
                units = number(
                    firstPresent([measured["duration_seconds"], measured["compute_time"], result["execution_time"], result["duration"]]))
            }
        }
        let unitCount = units ?? 0
        let unitPrice = number(firstPresent([measured["unit_price"], result["unit_price"]])) ?? 0.02
        let price =
            number(
                firstPresent([
                    measured["price"], result["price"], measured["aitbc_earned"], result["aitbc_earned"], measured["cost"],
                    result["cost"],
                ])) ?? roundedToMillionths(unitCount * unitPrice)
        var metadata: [String: JSONValue] = [
            "job_payload": job.payload, "job_constraints": job.constraints.map(JSONValue.object) ?? .null,
            "result": resultValue, "metrics": metrics.map(JSONValue.object) ?? .null,
        ]
        if let failure { metadata["error"] = ["code": .string(failure.code), "message": .string(failure.message)] }
        return [
            "version": "1.0", "receipt_id": .string(receiptID), "job_id": .string(job.id),
            "provider": .string(job.assignedMinerID ?? ""), "client": .string(job.clientKeyID),
            "status": .string(status.rawValue), "units": .double(unitCount), "unit_type": unitType,
            "unit_price": .double(unitPrice), "price": .double(price),
            "started_at": .int(unixSeconds(job.startedAt ?? job.requestedAt)), "completed_at": .int(unixSeconds(now)),
            "metadata": .object(metadata),
        ]
    }

    /// The first value that is present and not `null` (Python's `_first_present`).
    static func firstPresent(_ values: [JSONValue?]) -> JSONValue? {
        for case let value? in values where value != .null { return value }
        return nil
    }

    /// The value as a finite number the way Python's `float()` reads it (numbers, booleans, numeric
    /// strings), else nil.
    static func number(_ value: JSONValue?) -> Double? {
        let number: Double?
        switch value {
        case .int(let integer): number = Double(integer)
        case .largeInteger(let text): number = Double(text)
        case .double(let double): number = double
        case .bool(let flag): number = flag ? 1 : 0
        case .string(let text): number = Double(text.trimmingCharacters(in: .whitespacesAndNewlines))
        default: number = nil
        }
        return number.flatMap { $0.isFinite ? $0 : nil }
    }

    /// `value` rounded to six decimals as Python's `round(value, 6)` does (from its exact binary value).
    static func roundedToMillionths(_ value: Double) -> Double {
        guard value.isFinite else { return 0 }
        // A whole number (0 on every receipt without units) is its own rounding: no format and parse.
        if value == value.rounded(), abs(value) < 0x1p53 { return value }
        return Double(String(format: "%.6f", value)) ?? value
    }

    /// Whole seconds since 1970, truncated as Python's `int(timestamp)` truncates.
    static func unixSeconds(_ date: Date) -> Int {
        Int(date.timeIntervalSince1970.rounded(.towardZero))
    }
}

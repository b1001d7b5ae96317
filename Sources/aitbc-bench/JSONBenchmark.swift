import AITBCWire
import ArgumentParser
import Foundation

/// The cost of reading a 1 MiB JSON document (nested objects and arrays, numbers, strings), as a
/// bare ``JSONValue`` and as a job submission's payload, by trial (Foundation's `JSONDecoder`, each
/// kind tried in turn at every value) and by kind (``JSONValueDecoder``, one pass).
struct JSONDecoding: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Milliseconds to decode a 1 MiB JSON document, by trial and by kind.")

    @Option(help: "Size of the document in bytes (at least).") var bytes = 1 << 20
    @Option(help: "Timed decodes of each kind; the median is reported.") var rounds = 7

    func run() throws {
        let payload = Self.document(atLeast: bytes)
        let body = Data(#"{"payload": \#(payload), "constraints": {"min_vram_gb": 16}, "ttl_seconds": 900}"#.utf8)
        let document = Data(payload.utf8)
        let foundation = RFC3339.makeDecoder()
        let byKind = JSONValueDecoder()
        // By trial, an integral float (`1.0`, `1e3`) decodes as an integer; by kind it stays a float,
        // as Python keeps it. Compared as numbers, the two must agree on everything.
        var trialBody = try foundation.decode(SubmitJobRequest.self, from: body)
        var kindBody = try byKind.decode(SubmitJobRequest.self, from: body)
        trialBody.payload = Self.numbersAsDoubles(trialBody.payload)
        kindBody.payload = Self.numbersAsDoubles(kindBody.payload)
        guard Self.numbersAsDoubles(try foundation.decode(JSONValue.self, from: document))
            == Self.numbersAsDoubles(try JSONValue(parsing: document)), trialBody == kindBody
        else { throw ValidationError("the two decoders disagree about the document") }

        let valueTrial = try Self.median(rounds) { _ = try foundation.decode(JSONValue.self, from: document) }
        let valueKind = try Self.median(rounds) { _ = try JSONValue(parsing: document) }
        let bodyTrial = try Self.median(rounds) { _ = try foundation.decode(SubmitJobRequest.self, from: body) }
        let bodyKind = try Self.median(rounds) { _ = try byKind.decode(SubmitJobRequest.self, from: body) }
        // A typical submission, to check that small bodies pay nothing for the extra tree.
        let small = Data(
            #"{"payload": {"type": "inference", "prompt": "hello", "model": "llama3.2"}, "constraints": {"min_vram_gb": 16}, "ttl_seconds": 900}"#
                .utf8)
        let smallTrial = try Self.median(rounds) { for _ in 0..<10_000 { _ = try foundation.decode(SubmitJobRequest.self, from: small) } }
        let smallKind = try Self.median(rounds) { for _ in 0..<10_000 { _ = try byKind.decode(SubmitJobRequest.self, from: small) } }
        print("document_bytes=\(document.count) body_bytes=\(body.count) rounds=\(rounds)")
        print(String(format: "json_value by_trial_ms=%.1f by_kind_ms=%.1f speedup=%.1f", valueTrial, valueKind, valueTrial / valueKind))
        print(String(format: "submit_body by_trial_ms=%.1f by_kind_ms=%.1f speedup=%.1f", bodyTrial, bodyKind, bodyTrial / bodyKind))
        print(
            String(
                format: "small_submit_body(%d bytes) by_trial_us=%.2f by_kind_us=%.2f speedup=%.1f", small.count,
                smallTrial / 10, smallKind / 10, smallTrial / smallKind))
    }

    /// Median milliseconds of `rounds` runs of `body`, after one untimed run.
    static func median(_ rounds: Int, _ body: () throws -> Void) throws -> Double {
        try body()
        var samples: [Double] = []
        for _ in 0..<max(1, rounds) {
            let start = ContinuousClock.now
            try body()
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15)
        }
        return samples.sorted()[samples.count / 2]
    }

    /// `value` with every number as a double, to compare decoders that keep `1.0` apart from `1` with
    /// one that does not.
    static func numbersAsDoubles(_ value: JSONValue) -> JSONValue {
        switch value {
        case .int(let number): return .double(Double(number))
        case .largeInteger(let text): return .double(Double(text) ?? .nan)
        case .array(let items): return .array(items.map(numbersAsDoubles))
        case .object(let members): return .object(members.mapValues(numbersAsDoubles))
        default: return value
        }
    }

    /// A deterministic document of at least `size` bytes: an object holding an array of records, each
    /// with integers, doubles, booleans, null, ASCII and non-ASCII strings, escapes, and three levels
    /// of nesting.
    static func document(atLeast size: Int) -> String {
        var records: [String] = []
        var total = 0
        var index = 0
        while total < size {
            let record = """
                {"id": \(index * 7919), "name": "item-\(index)", "score": \(Double(index) / 7.0), \
                "active": \(index % 2 == 0), "tags": ["gpu", "cuda-12", "r\\u00e9gion-\(index % 5)", "größe"], \
                "nested": {"depth": {"values": [\(index), \(-index), \(Double(index) * 0.5), 1e3], "note": null, \
                "text": "Lorem ipsum dolor sit amet, \\"quoted\\"\\n second line"}}}
                """
            records.append(record)
            total += record.utf8.count + 1
            index += 1
        }
        return #"{"records": ["# + records.joined(separator: ",") + #"], "count": \#(index)}"#
    }
}

import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// `aitbc-bench`: load generators for what `wrk` cannot drive (the job flow with long-polling miners).
@main
struct JobBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aitbc-bench",
        abstract: "Benchmarks: the job flow against a running coordinator, the in-process limiter, JSON decoding, GET /v1/me in process.",
        subcommands: [Throughput.self, Handoff.self, Limiter.self, JSONDecoding.self, MeBenchmark.self])
}

/// Common options: where the server is and which keys to use.
struct Target: ParsableArguments {
    @Option(help: "Base URL of the coordinator.") var url = "http://127.0.0.1:8000"
    @Option(help: "A client key (AITBC_BENCH_CLIENT_KEY).") var clientKey = ProcessInfo.processInfo.environment["AITBC_BENCH_CLIENT_KEY"] ?? ""
    @Option(help: "A miner key (AITBC_BENCH_MINER_KEY).") var minerKey = ProcessInfo.processInfo.environment["AITBC_BENCH_MINER_KEY"] ?? ""
}

/// Jobs per second end to end: submit → assign → result, with N polling miners.
struct Throughput: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Jobs per second, submit to result, with N miners.",
        discussion: """
            The time runs from the first submission to the last result: miners still waiting in a poll \
            once every job is done are not timed, but their polls are let end (within a second) before \
            it exits.
            """)

    @OptionGroup var target: Target
    @Option(help: "Polling miners.") var miners = 8
    @Option(help: "Jobs to run.") var jobs = 1000
    @Option(help: "Concurrent submitters (default: as many as miners, at least 4), so that submitting is not the limit.")
    var submitters: Int?

    func run() async throws {
        let submitters = max(1, self.submitters ?? max(4, miners))
        let http = BenchHTTP(base: target.url, connections: submitters + miners + 8)
        defer { http.shutdown() }
        let run = UUID().uuidString.prefix(8)
        for index in 0..<miners {
            _ = try await http.post("/v1/miners/register?miner_id=bench-\(run)-\(index)", key: target.minerKey, body: #"{"concurrency": 1}"#)
        }
        let completed = Counter()
        let finished = Shared<ContinuousClock.Instant?>(nil)
        let start = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<submitters {
                group.addTask {
                    for index in stride(from: part, to: jobs, by: submitters) {
                        let status = try await http.status("/v1/jobs", key: target.clientKey, body: #"{"payload": {"n": \#(index)}}"#)
                        guard status == 201 else { throw BenchError("submit answered \(status)") }
                    }
                }
            }
            for index in 0..<miners {
                group.addTask {
                    let minerID = "bench-\(run)-\(index)"
                    while completed.value < jobs {
                        let (status, text) = try await http.text(
                            "/v1/miners/poll?miner_id=\(minerID)", key: target.minerKey, body: #"{"max_wait_seconds": 1}"#)
                        guard status == 200, let jobID = BenchHTTP.string("job_id", in: text) else { continue }
                        let done = try await http.status(
                            "/v1/miners/\(jobID)/result?miner_id=\(minerID)", key: target.minerKey, body: #"{"result": {"ok": true}}"#)
                        guard done == 200 else { throw BenchError("result answered \(done)") }
                        if completed.increment() == jobs { finished.set(.now) }
                    }
                }
            }
            // Every job done: each miner's last poll ends within its max_wait (1 s) and the miner stops.
            // Not cancelled: a poll whose client goes away as it reaches the server may not be seen to
            // go, and a job of the next run handed to it would wait for that miner's heartbeat timeout
            // (60 s), as a real miner that vanished mid-poll leaves its job (one server serves
            // storage.sh's 1/8/32-miner runs in turn).
            try await group.waitForAll()
        }
        let elapsed = (finished.get() ?? ContinuousClock.now) - start
        let seconds = Double(elapsed.components.attoseconds) / 1e18 + Double(elapsed.components.seconds)
        print(String(format: "miners=%d jobs=%d seconds=%.2f jobs_per_second=%.1f", miners, jobs, seconds, Double(jobs) / seconds))
    }
}

/// Time from submitting a job to a waiting miner receiving it.
struct Handoff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Submit-to-waiting-miner latency, p50 and p99.",
        discussion: """
            Each sample: the miner's poll is sent; once it waits in the server's queue (with --operator-key, \
            read from /metrics; without one, 20 ms after it was sent), a job is submitted, and the time runs \
            from sending the submission to the miner receiving the job. The first --warmup hand-offs are not \
            counted (connections opened, keys cached). With --miner-url the miner polls another instance than \
            the one the job is submitted to. With --background-jobs and --idle-miners, the tenant also has that \
            many queued jobs no miner can run and that many other miners long-polling that cannot run the \
            sampled jobs: matching must not slow down.
            """)

    @OptionGroup var target: Target
    @Option(help: "Samples.") var samples = 300
    @Option(help: "Hand-offs first, not counted.") var warmup = 10
    @Option(help: "An operator key (AITBC_BENCH_OPERATOR_KEY): submit once the poll waits in the server's queue.")
    var operatorKey = ProcessInfo.processInfo.environment["AITBC_BENCH_OPERATOR_KEY"] ?? ""
    @Option(help: "Base URL the miner polls (default: --url).") var minerURL: String?
    @Option(help: "Queued jobs, submitted first, that no miner can run.") var backgroundJobs = 0
    @Option(help: "Other miners long-polling meanwhile that cannot run the sampled jobs.") var idleMiners = 0

    func run() async throws {
        let http = BenchHTTP(base: target.url, connections: idleMiners + 64)
        let minerHTTP = minerURL.map { BenchHTTP(base: $0, connections: idleMiners + 64) } ?? http
        defer {
            http.shutdown()
            if minerURL != nil { minerHTTP.shutdown() }
        }
        let run = UUID().uuidString.prefix(8)
        let minerID = "handoff-\(run)"
        let registered = try await minerHTTP.status(
            "/v1/miners/register?miner_id=\(minerID)", key: target.minerKey,
            body: #"{"concurrency": 1, "capabilities": {"gpu": {"model": "NVIDIA H100", "memory_gb": 80}}}"#)
        guard registered == 200 else { throw BenchError("register answered \(registered)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for part in 0..<8 {
                group.addTask {
                    for index in stride(from: part, to: backgroundJobs, by: 8) {
                        let (status, _) = try await http.post(
                            "/v1/jobs", key: target.clientKey,
                            body: #"{"payload": {"b": \#(index)}, "constraints": {"models": ["bench-unavailable"]}, "ttl_seconds": 3600}"#)
                        guard status == 201 else { throw BenchError("background submit answered \(status)") }
                    }
                }
            }
            try await group.waitForAll()
        }
        for index in 0..<idleMiners {
            _ = try await minerHTTP.post(
                "/v1/miners/register?miner_id=idle-\(run)-\(index)", key: target.minerKey,
                body: #"{"capabilities": {"gpu": {"model": "RTX 4090", "memory_gb": 24}}}"#)
        }
        // The poll counts as waiting once the miner's instance has more polls in its queue than the idle miners alone.
        let waiting: @Sendable () async throws -> Void = { [operatorKey, minerHTTP, idleMiners] in
            guard !operatorKey.isEmpty else {
                try await Task.sleep(for: .milliseconds(20))
                return
            }
            let since = ContinuousClock.now
            while try await minerHTTP.queuedPolls(operatorKey: operatorKey) <= idleMiners {
                guard ContinuousClock.now - since < .seconds(10) else { throw BenchError("the poll never waited in the queue") }
                try await Task.sleep(for: .milliseconds(1))
            }
        }
        // The idle miners poll beside the measurement and stop with it.
        var latencies: [Double] = try await withThrowingTaskGroup(of: [Double]?.self) { group in
            for index in 0..<idleMiners {
                group.addTask {
                    while !Task.isCancelled {
                        _ = try? await minerHTTP.post(
                            "/v1/miners/poll?miner_id=idle-\(run)-\(index)", key: target.minerKey,
                            body: #"{"max_wait_seconds": 30}"#)
                    }
                    return nil
                }
            }
            group.addTask {
                if idleMiners > 0 { try await Task.sleep(for: .seconds(2)) }
                var latencies: [Double] = []
                for index in 0..<(warmup + samples) {
                    let received = Shared<ContinuousClock.Instant?>(nil)
                    var submittedAt = ContinuousClock.now
                    let jobID: String = try await withThrowingTaskGroup(of: String?.self) { group in
                        group.addTask {
                            let (status, text) = try await minerHTTP.text(
                                "/v1/miners/poll?miner_id=\(minerID)", key: target.minerKey, body: #"{"max_wait_seconds": 10}"#)
                            received.set(.now)
                            return status == 200 ? BenchHTTP.string("job_id", in: text) : nil
                        }
                        try await waiting()
                        submittedAt = .now
                        let status = try await http.status(
                            "/v1/jobs", key: target.clientKey, body: #"{"payload": {"i": \#(index)}, "constraints": {"gpu": "H100"}}"#)
                        guard status == 201 else { throw BenchError("submit answered \(status)") }
                        guard let id = try await group.next() ?? nil else { throw BenchError("the miner got no job") }
                        return id
                    }
                    if index >= warmup, let at = received.get() {
                        let elapsed = at - submittedAt
                        latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    }
                    let done = try await minerHTTP.status(
                        "/v1/miners/\(jobID)/result?miner_id=\(minerID)", key: target.minerKey, body: #"{"result": 1}"#)
                    guard done == 200 else { throw BenchError("result answered \(done)") }
                }
                return latencies
            }
            while let finished = try await group.next() {
                guard let finished else { continue }
                group.cancelAll()
                return finished
            }
            return []
        }
        latencies.sort()
        func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
        let figures = String(
            format: "samples=%d background_jobs=%d idle_miners=%d handoff_ms_p50=%.2f handoff_ms_p99=%.2f handoff_ms_max=%.2f",
            latencies.count, backgroundJobs, idleMiners, percentile(0.5), percentile(0.99), latencies.last ?? 0)
        print(figures + " poll_ready=" + (operatorKey.isEmpty ? "after_20ms" : "metrics"))
    }
}

/// A small JSON-over-HTTP helper with room for many concurrent long-polls.
final class BenchHTTP: Sendable {
    let base: String
    let client: HTTPClient

    init(base: String, connections: Int = 256) {
        self.base = base
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(256, connections))
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    func post(_ path: String, key: String, body: String) async throws -> (Int, [String: Any]) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: key)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 22)
        let json = (try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    /// POSTs `body` and returns the status alone (the body is read and dropped).
    func status(_ path: String, key: String, body: String) async throws -> Int {
        try await text(path, key: key, body: body).0
    }

    /// POSTs `body` and returns the status and the answer's text, unparsed.
    func text(_ path: String, key: String, body: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "X-API-Key", value: key)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 22)
        return (Int(response.status.code), String(buffer: buffer))
    }

    /// The long-polls waiting in the server's queue now (`aitbc_long_polls_queued` of `/metrics`).
    func queuedPolls(operatorKey: String) async throws -> Int {
        var request = HTTPClientRequest(url: base + "/metrics")
        request.headers.add(name: "X-API-Key", value: operatorKey)
        let response = try await client.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 22))
        guard response.status == .ok,
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("aitbc_long_polls_queued ") }),
            let value = Double(line.split(separator: " ").last ?? "")
        else { throw BenchError("/metrics answered \(response.status.code) without aitbc_long_polls_queued") }
        return Int(value)
    }

    /// The string value of the first `"name": "…"` in `text` (the driver reads one field of an
    /// answer; parsing each whole answer cost it more CPU than the server spent on some routes).
    static func string(_ name: String, in text: String) -> String? {
        guard let key = text.range(of: "\"\(name)\"") else { return nil }
        guard let open = text[key.upperBound...].firstIndex(of: "\"") else { return nil }
        let value = text.index(after: open)
        guard let close = text[value...].firstIndex(of: "\"") else { return nil }
        return String(text[value..<close])
    }

    func shutdown() { try? client.syncShutdown() }
}

final class Counter: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    /// Adds one and returns the new count.
    @discardableResult
    func increment() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}

final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func set(_ value: Value) { mutex.withLock { $0 = value } }
    func get() -> Value { mutex.withLock { $0 } }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

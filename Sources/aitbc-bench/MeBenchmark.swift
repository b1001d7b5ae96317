import AITBCDomain
import AITBCServer
import ArgumentParser
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

/// `GET /v1/me` in process, through the whole application (every middleware, the route, the JSON)
/// but no socket: a plain key against a key with quotas, credits and an IP allow-list, each against
/// its keyless twin (`/bench/me`, `/bench/me-limited`: the same bytes and header names).
///
/// The wire benchmark (`bench/run.sh`, scenario d) swings by 10–20 % from one sample to the next on
/// this machine; here the four variants run in short interleaved batches in one task, so what the
/// limits add to a request is seen in nanoseconds rather than guessed from the spread.
struct MeBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "me",
        abstract: "Nanoseconds per GET /v1/me in process: plain key vs quotas + credits + allow-list, each vs its keyless twin.",
        discussion: """
            Starts a coordinator on a temporary SQLite store with the scenario-d set-up of bench/run.sh: \
            a key of test-tenant (no quota, no credits, no allow-list), and a key of a \
            tenant with daily and monthly quotas that spends credits (monthly refill) and may be used \
            only from 127.0.0.0/8 and ::1. Requests go through HummingbirdTesting's router driver, \
            one at a time, from 127.0.0.1 (X-Forwarded-For, trusted). Each round times --batch \
            requests of each variant in a rotating order; per variant the median of the rounds is \
            printed, and per key /v1/me minus its twin: the work authentication and the limits do.
            """)

    @Option(help: "Requests per variant and round.") var batch = 2000
    @Option(help: "Rounds (the median is reported).") var rounds = 31
    @Option(
        help: "Only these variants (comma-separated: plain, plain-twin, limited, limited-twin), e.g. to profile one with perf; the overheads and the domain part are then not printed.")
    var variants: String?

    static let clientKey = "bench-client-key-000000000001"
    static let operatorKey = "bench-operator-key-00000000001"

    func run() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-bench-me-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var settings = CoordinatorSettings()
        settings.databaseURL = "sqlite:" + folder.appendingPathComponent("coordinator.sqlite").path
        settings.benchmarkRoutes = true
        settings.trustForwardedFor = true
        settings.logLevel = .warning
        settings.developmentKeys = [.client: Self.clientKey, .operator: Self.operatorKey]
        var logger = Logger(label: "aitbc-bench-me")
        logger.logLevel = .warning
        let coordinator = try await Coordinator.start(settings: settings, logger: logger) { _ in }
        for service in coordinator.storageServices { Task { try? await service.run() } }
        let application = try buildApplication(coordinator: coordinator, settings: settings, logger: logger)
        let batch = self.batch, rounds = self.rounds
        let only = variants.map { Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }) }
        try await application.test(.router) { client in
            let (plain, limited) = try await Self.setUp(client)
            let all: [(name: String, path: String, key: String?)] = [
                ("plain", "/v1/me", plain), ("plain-twin", "/bench/me", nil),
                ("limited", "/v1/me", limited), ("limited-twin", "/bench/me-limited", nil),
            ]
            let chosen = only.map { names in all.filter { names.contains($0.name) } } ?? all
            guard !chosen.isEmpty else { throw BenchError("--variants names none of \(all.map(\.name))") }
            let variants = chosen
            // Warm-up, and the answers checked: the same lengths as their twins.
            var lengths: [String: Int] = [:]
            for variant in variants {
                for _ in 0..<batch { _ = try await Self.call(client, variant.path, key: variant.key) }
                lengths[variant.name] = try await Self.call(client, variant.path, key: variant.key)
            }
            guard only != nil || (lengths["plain"] == lengths["plain-twin"] && lengths["limited"] == lengths["limited-twin"]) else {
                throw BenchError("a twin answers another length than its /v1/me: \(lengths)")
            }
            var times: [String: [Double]] = [:]
            for round in 0..<rounds {
                for offset in 0..<variants.count {
                    let variant = variants[(round + offset) % variants.count]
                    let start = ContinuousClock.now
                    for _ in 0..<batch { _ = try await Self.call(client, variant.path, key: variant.key) }
                    let elapsed = ContinuousClock.now - start
                    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
                    times[variant.name, default: []].append(nanoseconds / Double(batch))
                }
            }
            func median(_ name: String) -> Double { times[name, default: [0]].sorted()[times[name, default: [0]].count / 2] }
            for variant in variants {
                print(String(format: "variant=%@ ns_per_request=%.0f bytes=%d", variant.name, median(variant.name), lengths[variant.name] ?? 0))
            }
            guard only == nil else { return }
            // Per round, each key's /v1/me minus its twin (the same round's batches), then the median.
            func overhead(_ me: String, _ twin: String) -> Double {
                let differences = zip(times[me, default: []], times[twin, default: []]).map { $0 - $1 }.sorted()
                return differences[differences.count / 2]
            }
            let plainOverhead = overhead("plain", "plain-twin"), limitedOverhead = overhead("limited", "limited-twin")
            print(String(format: "auth_ns plain=%.0f limited=%.0f added_by_limits=%.0f", plainOverhead, limitedOverhead, limitedOverhead - plainOverhead))

            // The domain's part alone, as the key middleware calls it: the key checked (cache), the
            // allow-list, the budgets charged (rate limit; quotas and credits when the key has them),
            // the request counted.
            var domain: [String: [Double]] = [:]
            let keys = [("plain", plain), ("limited", limited)]
            let address = IPAddress("127.0.0.1")
            for round in 0..<rounds {
                for offset in 0..<keys.count {
                    let (name, key) = keys[(round + offset) % keys.count]
                    let start = ContinuousClock.now
                    for _ in 0..<(batch * 10) {
                        let principal = try await coordinator.authenticator.authenticate(key, from: "127.0.0.1")
                        if let allowed = principal.key.allowedIPs, !allowed.admits(address) { throw BenchError("refused by the allow-list") }
                        let admission = try await coordinator.budgets.admit(principal, from: "127.0.0.1")
                        coordinator.budgets.finish(admission, failed: false)
                    }
                    let elapsed = ContinuousClock.now - start
                    let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
                    domain[name, default: []].append(nanoseconds / Double(batch * 10))
                }
            }
            let domainPlain = domain["plain", default: [0]].sorted()[rounds / 2]
            let domainLimited = domain["limited", default: [0]].sorted()[rounds / 2]
            print(String(format: "domain_ns plain=%.0f limited=%.0f added_by_limits=%.0f", domainPlain, domainLimited, domainLimited - domainPlain))
        }
        try? await coordinator.store.close()
    }

    /// The scenario-d keys: test-tenant's plain key and the limited key.
    ///
    /// The plain key is one of the product's own (`aitbc_…`, like the limited one: the same format
    /// check and lookup), not the development key, so that the two differ only in their limits. Its
    /// name is as much shorter than the development key's as its ID is longer, so its `/v1/me` has the
    /// length of `/bench/me` (the development key's answer).
    static func setUp(_ client: some TestClientProtocol) async throws -> (plain: String, limited: String) {
        func send(
            _ method: HTTPRequest.Method, _ path: String, key: String, _ body: String, tenant: String? = nil
        ) async throws -> [String: Any] {
            var headers: HTTPFields = [.init("X-API-Key")!: key, .contentType: "application/json"]
            if let tenant { headers[.init("X-Tenant-ID")!] = tenant }
            return try await client.execute(
                uri: path, method: method,
                headers: headers,
                body: ByteBuffer(string: body)
            ) { response in
                guard response.status.code < 300 else {
                    throw BenchError("\(method) \(path) answered \(response.status.code): \(String(buffer: response.body))")
                }
                return (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))) as? [String: Any] ?? [:]
            }
        }
        _ = try await send(.patch, "/v1/tenants/test-tenant", key: operatorKey, #"{"rate_limit_per_minute": 100000000}"#)
        let idLength = "key_".count + 20, developmentID = StoreBootstrap.developmentKeyID(.client)
        let nameLength = StoreBootstrap.developmentKeyName(.client).count - (idLength - developmentID.count)
        let name = "plain" + String(repeating: "-", count: max(0, nameLength - 5))
        let created = try await send(
            .post, "/v1/api-keys", key: operatorKey, #"{"name": "\#(name)", "role": "client"}"#, tenant: StoreBootstrap.developmentTenantID)
        guard let plain = created["api_key"] as? String else { throw BenchError("no plain key") }
        let tenant = try await send(.post, "/v1/tenants", key: operatorKey, #"{"tenant_id": "metered", "name": "Metered", "plan": "enterprise"}"#)
        guard let master = (tenant["master_key"] as? [String: Any])?["api_key"] as? String else { throw BenchError("no master key") }
        _ = try await send(
            .patch, "/v1/tenants/metered", key: operatorKey,
            #"{"rate_limit_per_minute": 100000000, "quota_per_day": 1000000000000, "quota_per_month": 1000000000000}"#)
        let key = try await send(
            .post, "/v1/api-keys", key: master,
            #"{"name": "limited", "role": "client", "credits": {"remaining": 1000000000000, "refill": {"amount": 1000000000000, "interval": "monthly"}}, "allowed_ips": ["127.0.0.0/8", "::1/128"]}"#)
        guard let limited = key["api_key"] as? String else { throw BenchError("no limited key") }
        return (plain, limited)
    }

    /// One GET from 127.0.0.1; the body's length. Anything but 200 stops the benchmark.
    static func call(_ client: some TestClientProtocol, _ path: String, key: String?) async throws -> Int {
        var headers: HTTPFields = [.init("X-Forwarded-For")!: "127.0.0.1"]
        if let key { headers[.init("X-API-Key")!] = key }
        return try await client.execute(uri: path, method: .get, headers: headers, body: nil) { response in
            guard response.status == .ok else { throw BenchError("GET \(path) answered \(response.status.code)") }
            return response.body.readableBytes
        }
    }
}

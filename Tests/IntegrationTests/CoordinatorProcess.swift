import AITBCTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A real `aitbc-coordinator` process on a free loopback port, for tests where the wire and the
/// process lifetime matter (crash recovery, first start). It is started through ``ChildProcess``
/// and watches the test process (``parentWatch``): when the tests crash or are killed, it shuts down.
final class CoordinatorProcess: Sendable {
    let port: Int
    let process: ChildProcess
    /// Where the process writes its standard output.
    let outputLog: String
    /// Where the process writes its standard error.
    let errorLog: String

    /// Starts the binary with `environment` added to ``environment(databasePath:port:)``, and waits
    /// until `/health` answers. `AITBC_DATABASE_URL` in `environment` wins.
    static func start(databasePath: String, environment: [String: String] = [:], port: Int? = nil) async throws
        -> CoordinatorProcess
    {
        let port = try port ?? freePort()
        var env = try await Self.environment(databasePath: databasePath, port: port)
        for (name, value) in environment { env[name] = value }
        // Standard error goes to a file too (a pipe nobody reads could fill and stall the process):
        // its last lines explain a coordinator that exits early.
        let outputLog = ChildProcess.temporaryPath("coordinator-\(port).out")
        let errorLog = ChildProcess.temporaryPath("coordinator-\(port).log")
        let process = try ChildProcess.spawn(
            try binaryPath(), [], environment: env, standardOutput: .file(outputLog), standardError: .file(errorLog))
        let coordinator = CoordinatorProcess(port: port, process: process, outputLog: outputLog, errorLog: errorLog)
        try await coordinator.waitUntilHealthy()
        return coordinator
    }

    /// The environment of a coordinator on `port`, watching this process: the database is
    /// `databasePath` on SQLite; on PostgreSQL (``TestBackend/current``) a database of its own that
    /// the same path names again on a restart (none for an empty path).
    static func environment(databasePath: String, port: Int) async throws -> [String: String] {
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"]
        env["AITBC_PORT"] = String(port)
        env["AITBC_HOST"] = "127.0.0.1"
        if !databasePath.isEmpty {
            let database = try await TestDatabase.named(databasePath)
            env["AITBC_DATABASE_URL"] = database.url
            if database.backend == .postgres { env["AITBC_DATABASE_MAX_CONNECTIONS"] = String(TestDatabase.maximumConnections) }
        }
        env["AITBC_LOG_LEVEL"] = "warning"
        env.merge(parentWatch) { $1 }
        return env
    }

    /// The setting that makes a coordinator shut down once this test process is gone: a crashed or
    /// killed test run leaves no servers behind.
    static var parentWatch: [String: String] { ["AITBC_PARENT_PID": String(getpid())] }

    private init(port: Int, process: ChildProcess, outputLog: String, errorLog: String) {
        self.port = port
        self.process = process
        self.outputLog = outputLog
        self.errorLog = errorLog
    }

    var baseURL: String { "http://127.0.0.1:\(port)" }

    func waitUntilHealthy() async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let status = process.terminationStatus {
                let log = (try? String(contentsOfFile: errorLog, encoding: .utf8)) ?? ""
                throw ProcessError(
                    description: "the coordinator exited early (status \(status)): "
                        + log.split(separator: "\n").suffix(5).joined(separator: " | "))
            }
            if let reply = try? await request(.GET, "/health"), reply.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw ProcessError(description: "the coordinator did not answer /health within 30 s")
    }

    /// Sends a SIGKILL: no shutdown code runs.
    func kill9() {
        process.send(SIGKILL)
        process.waitUntilExit()
    }

    /// Sends SIGTERM and waits for the exit.
    func terminate() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }

    /// Everything the process printed on standard output so far (all of it once it has exited).
    func readOutput() -> String {
        (try? String(contentsOfFile: outputLog, encoding: .utf8)) ?? ""
    }

    struct Reply {
        var status: Int
        var body: String
        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    func request(
        _ method: HTTPMethod, _ path: String, key: String? = nil, body: String? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        try await Self.send(method, baseURL + path, key: key, body: body, headers: headers)
    }

    /// One JSON request to `url` through `client` (HTTPS needs a client that trusts the server).
    static func send(
        _ method: HTTPMethod, _ url: String, key: String? = nil, body: String? = nil, headers: [String: String] = [:],
        client: HTTPClient = httpClient
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        if let key { request.headers.add(name: "X-API-Key", value: key) }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: buffer))
    }

    /// POSTs `fields` as a form, with a `Cookie` header.
    func form(_ path: String, _ fields: [String: String], cookie: String) async throws -> Reply {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? $0.value)" }
            .joined(separator: "&")
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Cookie", value: cookie)
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await Self.httpClient.execute(request, timeout: .seconds(30))
        let buffer = try await response.body.collect(upTo: 1 << 20)
        return Reply(status: Int(response.status.code), body: String(buffer: buffer))
    }

    /// POSTs `body` with `key` and returns the status.
    static func httpPost(url: String, key: String, body: String) async throws -> Int {
        try await send(.POST, url, key: key, body: body).status
    }

    /// One client for all tests, with room for many concurrent long-polls (the shared one allows 8 per host).
    static let httpClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 128)
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()

    /// The built `aitbc-coordinator` next to the test bundle (or named by `AITBC_COORDINATOR_BINARY`).
    static func binaryPath() throws -> String {
        var candidates: [String] = []
        if let explicit = ProcessInfo.processInfo.environment["AITBC_COORDINATOR_BINARY"] { candidates.append(explicit) }
        let runner = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).deletingLastPathComponent()
        candidates.append(runner.appendingPathComponent("aitbc-coordinator").path)
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug/aitbc-coordinator").path)
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw ProcessError(description: "aitbc-coordinator is not built; run `swift build` first (looked in \(candidates))")
        }
        return found
    }

    /// A TCP port on 127.0.0.1 that nothing listens on right now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ProcessError(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0 else { throw ProcessError(description: "bind() failed") }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-it-\(UUID().uuidString)/coordinator.sqlite").path
    }
}

struct ProcessError: Error, CustomStringConvertible {
    var description: String
}

/// A value shared between concurrent test tasks.
final class Shared<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<Result>(_ body: (inout Value) -> Result) -> Result { mutex.withLock { body(&$0) } }
}

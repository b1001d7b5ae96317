import AITBCDomain
import AITBCServer
import AITBCStorage
import AITBCTestSupport
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// A coordinator on a fresh database of ``TestBackend/current`` (a temporary SQLite file, or a
/// PostgreSQL database of its own) with a hand-moved clock and the development keys.
struct Harness {
    static let clientKey = "dev-client-key-0001"
    static let minerKey = "dev-miner-key-0001"
    static let masterKey = "dev-master-key-0001"
    static let operatorKey = "dev-operator-key-0001"

    let coordinator: Coordinator
    let clock: ManualTimeSource
    let settings: CoordinatorSettings
    let database: TestDatabase

    /// A fresh coordinator whose `test-tenant` is on `plan`; its long-polls wait on `pollClock`.
    static func make(
        plan: String = "enterprise", logger: Logger = Logger(label: "test"),
        pollClock: any Clock<Duration> = ContinuousClock(), configure: (inout CoordinatorSettings) -> Void = { _ in }
    ) async throws -> Harness {
        var settings = CoordinatorSettings()
        settings.trustForwardedFor = true
        settings.authTarpitMilliseconds = 0
        settings.logLevel = .warning
        // bcrypt's cheapest cost: the tests check behaviour, not the work factor.
        settings.passwordHashCost = 4
        settings.developmentPlan = plan
        settings.developmentKeys = [
            .client: clientKey, .miner: minerKey, .master: masterKey, .operator: operatorKey,
        ]
        configure(&settings)
        let database = try await TestDatabase.make()
        settings.databaseURL = database.url
        if database.backend == .postgres { settings.databaseMaxConnections = TestDatabase.maximumConnections }
        let clock = ManualTimeSource(Date(timeIntervalSince1970: 1_795_000_000))
        do {
            let coordinator = try await Coordinator.start(
                settings: settings, time: clock, pollClock: pollClock, logger: logger
            ) { _ in }
            // The store answers from here until it is closed, not only while an application runs (the
            // application's services join these runs); closing the store ends them.
            for service in coordinator.storageServices { Task { try? await service.run() } }
            return Harness(coordinator: coordinator, clock: clock, settings: settings, database: database)
        } catch {
            await database.drop()
            throw HarnessError(description: "the coordinator did not start on \(database.backend): \(String(reflecting: error))")
        }
    }

    var backend: TestBackend { database.backend }

    /// Closes the store and drops a PostgreSQL database: the end of a test that made a harness.
    func close() async {
        try? await coordinator.store.close()
        await database.drop()
    }

    func application(logger: Logger? = nil) throws -> some ApplicationProtocol {
        try buildApplication(coordinator: coordinator, settings: settings, logger: logger)
    }

    /// Runs `body` against the application listening on a loopback port: requests then come from a
    /// real peer (127.0.0.1), for what depends on the connection's address.
    func testLive(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        var settings = self.settings
        settings.port = 0
        try await run(try buildApplication(coordinator: coordinator, settings: settings), .live, body)
    }

    /// Sweeps now and waits until `done` holds. The coordinator's own sweeper runs too (every second,
    /// on the same hand-moved clock) and may get there first, so what a sweep returns is not a count
    /// a test can rely on: the state is.
    func sweep(until done: @escaping () async throws -> Bool) async throws {
        _ = await coordinator.sweeper.sweep()
        try await waitUntil { (try? await done()) ?? false }
    }

    /// Waits until the coordinator listens for other instances and has caught up (on PostgreSQL; at
    /// once on SQLite): its first catch-up forgets every cached key, which a test relying on what it
    /// just cached must not meet halfway.
    func waitUntilListening() async throws {
        guard coordinator.bus.isShared else { return }
        // A wait on the event, not a measure: a full PostgreSQL pass on a loaded machine can take long.
        try await waitUntil(.seconds(60)) { coordinator.cluster.resyncCount > 0 }
    }

    /// Runs `body` against the application through HummingbirdTesting's router driver.
    func test(_ body: @Sendable (any TestClientProtocol) async throws -> Void) async throws {
        try await run(try application(), .router, body)
    }

    /// Runs `body` once the coordinator listens, then closes it (and drops its database) either way.
    private func run(
        _ application: some ApplicationProtocol, _ driver: TestingSetup,
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        do {
            try await application.test(driver) { client in
                try await waitUntilListening()
                try await body(client)
            }
        } catch {
            await close()
            throw error
        }
        await close()
    }
}

/// A response with its JSON body decoded for assertions.
struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let body: ByteBuffer

    var json: JSONValue { (try? JSONDecoder().decode(JSONValue.self, from: Data(body.readableBytesView))) ?? .null }
    var text: String { String(buffer: body) }
    /// `error.code` of an error body.
    var errorCode: String? { json["error"]?["code"]?.stringValue }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try RFC3339.makeDecoder().decode(T.self, from: Data(body.readableBytesView))
    }

    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }
}

extension TestClientProtocol {
    /// Sends one request; `key` goes in `X-API-Key`, `from` in `X-Forwarded-For`.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil, json: String? = nil,
        headers extra: [String: String] = [:], from address: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let key { headers[HTTPField.Name("X-API-Key")!] = key }
        if let json {
            headers[.contentType] = "application/json"
            _ = json
        }
        if let address { headers[HTTPField.Name("X-Forwarded-For")!] = address }
        for (name, value) in extra { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return try await execute(
            uri: uri, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) }
        ) { response in
            Reply(status: response.status, headers: response.headers, body: response.body)
        }
    }

    /// Creates a key with `key` and returns the created view (with its secret).
    func createKey(
        using key: String, name: String = "test key", role: String = "client", extra: String = "",
        headers: [String: String] = [:]
    ) async throws -> APIKeyView {
        let reply = try await send(
            .post, "/v1/api-keys", key: key, json: #"{"name": "\#(name)", "role": "\#(role)"\#(extra)}"#,
            headers: headers)
        guard reply.status == .created else {
            throw HarnessError(description: "create key failed: \(reply.status) \(reply.text)")
        }
        return try reply.decode(APIKeyView.self)
    }

    /// Creates a tenant (as the operator) and returns it with its first master key.
    func createTenant(_ id: String, plan: String = "free") async throws -> TenantView {
        let reply = try await send(
            .post, "/v1/tenants", key: Harness.operatorKey,
            json: #"{"tenant_id": "\#(id)", "name": "Tenant \#(id)", "plan": "\#(plan)"}"#)
        guard reply.status == .created else {
            throw HarnessError(description: "create tenant failed: \(reply.status) \(reply.text)")
        }
        return try reply.decode(TenantView.self)
    }
}

struct HarnessError: Error, CustomStringConvertible {
    var description: String
}

extension APIKeyView {
    /// The secret of a just-issued key, or a test failure.
    func secret() throws -> String {
        guard let apiKey else { throw HarnessError(description: "\(keyID) came without its secret") }
        return apiKey
    }
}

import AITBC
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// Redirects: the SDK follows them only where its key already goes.
@Suite struct RedirectTests {
    @Test func aRedirectToAnotherOriginIsRefusedAndTheOtherServerNeverSeesTheKey() async throws {
        let elsewhere = Recorder()
        try await Self.serve(elsewhere.router()) { elsewhereURL in
            let router = Router()
            router.get("/v1/temporary") { _, _ in
                Response(status: .temporaryRedirect, headers: [.location: elsewhereURL + "/v1/landing"])
            }
            router.post("/v1/found") { _, _ in Response(status: .found, headers: [.location: elsewhereURL + "/v1/landing"]) }
            try await Self.serve(router) { url in
                let client = try AITBCClient(apiKey: "sdk-secret-key", baseURL: url, tenantID: "tenant-a")
                let calls: [@Sendable () async throws -> Void] = [
                    { try await client.send(.GET, "/v1/temporary", headers: ["Authorization": "Bearer sdk-secret-token"]) },
                    { try await client.send(.POST, "/v1/found", body: ["n": 1] as JSONValue) },
                ]
                for call in calls {
                    let error = await #expect(throws: TransportError.self) { try await call() }
                    #expect(error?.message.contains(elsewhereURL + "/v1/landing") == true, "\(String(describing: error))")
                }
            }
        }
        let seen = elsewhere.requests
        #expect(!seen.contains { $0.key != nil || $0.tenant != nil || $0.authorization != nil }, "\(seen)")
        // Refused, not followed bare: another server's answer is not taken for the coordinator's.
        #expect(seen.isEmpty)
    }

    @Test func aRedirectWithinTheOriginIsFollowedWithTheKeyAndA303BecomesAGet() async throws {
        let landing = Recorder()
        let router = landing.router()
        router.post("/v1/moved") { _, _ in Response(status: .temporaryRedirect, headers: [.location: "/v1/landing"]) }
        router.post("/v1/submitted") { request, _ in
            Response(status: .seeOther, headers: [.location: "http://\(request.head.authority ?? "")/v1/landing"])
        }
        try await Self.serve(router) { url in
            let client = try AITBCClient(apiKey: "sdk-secret-key", baseURL: url, tenantID: "tenant-a")
            let moved = try await client.send(.POST, "/v1/moved", body: ["n": 1] as JSONValue)
            #expect(moved.status == 200)
            let submitted = try await client.send(.POST, "/v1/submitted", body: ["n": 2] as JSONValue)
            #expect(submitted.status == 200)
        }
        #expect(
            landing.requests == [
                Recorder.Seen(method: "POST", key: "sdk-secret-key", tenant: "tenant-a", authorization: nil, body: #"{"n":1}"#),
                Recorder.Seen(method: "GET", key: "sdk-secret-key", tenant: "tenant-a", authorization: nil, body: ""),
            ])
    }

    /// Runs `body` with the base URL of a loopback server answering with `router`.
    static func serve(_ router: Router<BasicRequestContext>, _ body: @Sendable (String) async throws -> Void) async throws {
        var logger = Logger(label: "redirect-test")
        logger.logLevel = .warning
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), logger: logger)
        try await app.test(.live) { client in
            guard let port = client.port else { throw CancellationError() }
            try await body("http://127.0.0.1:\(port)")
        }
    }
}

/// A server's `/v1/landing`, which remembers what reached it.
private final class Recorder: Sendable {
    /// One request as it arrived.
    struct Seen: Equatable, Sendable {
        var method: String
        var key: String?
        var tenant: String?
        var authorization: String?
        var body: String
    }

    private let seen = Mutex<[Seen]>([])
    var requests: [Seen] { seen.withLock { $0 } }

    /// A router whose `/v1/landing` records each GET or POST and answers `{}`.
    func router() -> Router<BasicRequestContext> {
        let router = Router()
        for method in [HTTPRequest.Method.get, .post] {
            router.on("/v1/landing", method: method) { request, _ in
                let body = try await request.body.collect(upTo: 1 << 16)
                let headers = request.headers
                self.seen.withLock {
                    $0.append(
                        Seen(
                            method: request.method.rawValue, key: headers[HTTPField.Name("X-API-Key")!],
                            tenant: headers[HTTPField.Name("X-Tenant-ID")!], authorization: headers[.authorization],
                            body: String(buffer: body)))
                }
                return Response(
                    status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
            }
        }
        return router
    }
}

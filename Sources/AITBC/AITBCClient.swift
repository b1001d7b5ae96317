@_exported import AITBCWire
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

/// The Swift SDK of the AITBC Coordinator.
///
/// ```swift
/// let client = try AITBCClient()                      // AITBC_API_KEY, AITBC_URL
/// let job = try await client.jobs.create(payload: ["type": "inference", "prompt": "hello"])
/// let done = try await client.jobs.wait(for: job.jobID)
/// ```
public final class AITBCClient: Sendable {
    /// Timeouts and retries.
    public struct Configuration: Sendable {
        /// Longest a single request may take (a long-poll adds its own wait on top).
        public var timeout: Duration = .seconds(30)
        /// How many times a 429 or 503 is retried (honouring `Retry-After`, with jitter).
        public var maximumRetries = 2
        /// Upper bound on one retry's wait, whatever `Retry-After` says.
        public var maximumRetryDelay: Duration = .seconds(60)
        /// How long to try to connect before reporting the server unreachable.
        public var connectTimeout: Duration = .seconds(3)

        public init() {}
    }

    public let baseURL: String
    public let tenantID: String?
    public let configuration: Configuration
    let apiKey: String
    let http: HTTPClient
    private let lastRateLimitState = Mutex<RateLimitState?>(nil)

    /// A client for `baseURL` using `apiKey`; nil arguments come from `AITBC_API_KEY`, `AITBC_URL`
    /// (default `http://127.0.0.1:8000`) and `AITBC_TENANT_ID`.
    public init(
        apiKey: String? = nil, baseURL: String? = nil, tenantID: String? = nil, configuration: Configuration = .init()
    ) throws {
        let environment = ProcessInfo.processInfo.environment
        guard let key = apiKey ?? environment["AITBC_API_KEY"], !key.isEmpty else {
            throw AuthenticationError(
                info: ServerErrorInfo(
                    status: 401, code: ErrorCode.missingAPIKey.rawValue,
                    message: "No API key: pass apiKey: or set the AITBC_API_KEY environment variable", details: [:],
                    rateLimit: nil))
        }
        self.apiKey = key
        var url = baseURL ?? environment["AITBC_URL"] ?? "http://127.0.0.1:8000"
        while url.hasSuffix("/") { url.removeLast() }
        self.baseURL = url
        self.tenantID = tenantID ?? environment["AITBC_TENANT_ID"].flatMap { $0.isEmpty ? nil : $0 }
        self.configuration = configuration
        var httpConfiguration = HTTPClient.Configuration()
        httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        httpConfiguration.timeout.connect = .init(configuration.connectTimeout)
        // AsyncHTTPClient would carry X-API-Key to wherever a redirect points; `exchange` follows them itself.
        httpConfiguration.redirectConfiguration = .disallow
        self.http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: httpConfiguration)
    }

    deinit {
        try? http.syncShutdown()
    }

    /// The rate-limit state of the last response that carried one.
    public var lastRateLimit: RateLimitState? { lastRateLimitState.withLock { $0 } }

    public var jobs: Jobs { Jobs(client: self) }
    public var apiKeys: APIKeys { APIKeys(client: self) }
    public var miners: Miners { Miners(client: self) }
    public var tenants: Tenants { Tenants(client: self) }

    /// Who the key is: id, role, scopes, tenant, plan and limit state.
    public func me() async throws -> MeView {
        try await send(.GET, "/v1/me").decode(MeView.self)
    }

    // MARK: transport

    /// A raw answer: status, headers, body.
    public struct Answer: Sendable {
        public var status: Int
        public var headers: HTTPHeaders
        public var body: Data

        func decode<T: Decodable>(_ type: T.Type) throws -> T {
            do {
                // The wire's own decoder keeps numbers as sent (`2.0`, every digit of large integers),
                // so a receipt read here still verifies.
                return try JSONValueDecoder().decode(T.self, from: body)
            } catch {
                throw TransportError(message: "The server's answer could not be read as \(T.self)", underlying: error)
            }
        }
    }

    /// Sends numbers exactly as given (`2.0`, large integers in full; see ``JSONRawNumbers``).
    static let encoder: JSONEncoder = JSONRawNumbers.makeEncoder(RFC3339.makeEncoder())

    /// Sends one request, retrying 429 and 503 as configured; errors become typed errors. Redirects
    /// are followed only within the base URL's origin: one to another origin is a ``TransportError``.
    @discardableResult
    public func send(
        _ method: HTTPMethod, _ path: String, query: [String: String?] = [:], body: (some Encodable & Sendable)? = nil as JSONValue?,
        headers extra: [String: String] = [:], timeout: Duration? = nil
    ) async throws -> Answer {
        var components = URLComponents()
        let items = query.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) } }
            .sorted { $0.name < $1.name }
        components.queryItems = items.isEmpty ? nil : items
        let url = baseURL + path + (components.percentEncodedQuery.map { "?" + $0 } ?? "")
        let payload = try body.map { try JSONRawNumbers.shared.encode($0, with: Self.encoder) }
        var headers = HTTPHeaders()
        headers.add(name: "X-API-Key", value: apiKey)
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "User-Agent", value: "aitbc-swift/0.1")
        if let tenantID { headers.add(name: "X-Tenant-ID", value: tenantID) }
        for (name, value) in extra { headers.replaceOrAdd(name: name, value: value) }
        if payload != nil { headers.add(name: "Content-Type", value: "application/json") }
        var attempt = 0
        while true {
            let answer = try await exchange(method, url, headers: headers, payload: payload, timeout: timeout ?? configuration.timeout)
            let rateLimit = Self.rateLimit(of: answer.headers)
            if let rateLimit { lastRateLimitState.withLock { $0 = rateLimit } }
            if (200..<300).contains(answer.status) { return answer }
            let retryAfter = answer.headers.first(name: "Retry-After").flatMap { Int($0) }
            // A spent quota or balance is not waited out inside a call (its Retry-After may be hours).
            if answer.status == 503 || (answer.status == 429 && !ErrorMapping.isSpentAllowance(answer.body)),
                attempt < configuration.maximumRetries
            {
                attempt += 1
                try await Task.sleep(for: retryDelay(retryAfter: retryAfter, attempt: attempt))
                continue
            }
            throw ErrorMapping.error(status: answer.status, body: answer.body, rateLimit: rateLimit, retryAfter: retryAfter)
        }
    }

    /// Redirects one request may follow.
    static let maximumRedirects = 5

    /// One request, following 301, 302, 303, 307 and 308 within its origin (scheme, host and port),
    /// all within `timeout`. 303 turns the request into a GET without body; the others keep method
    /// and body. A redirect to another origin is refused with a ``TransportError`` naming the target:
    /// following it with the key would hand the key (and the tenant) to whoever the `Location` names,
    /// and following it without would take another server's answer for the coordinator's.
    func exchange(_ method: HTTPMethod, _ url: String, headers: HTTPHeaders, payload: Data?, timeout: Duration) async throws -> Answer {
        let deadline = NIODeadline.now() + .init(timeout)
        var (method, current, headers, payload) = (method, url, headers, payload)
        for _ in 0...Self.maximumRedirects {
            var request = HTTPClientRequest(url: current)
            request.method = method
            request.headers = headers
            if let payload { request.body = .bytes(ByteBuffer(bytes: payload)) }
            let answer: Answer
            do {
                let response = try await http.execute(request, deadline: deadline)
                let buffer = try await response.body.collect(upTo: 64 << 20)
                answer = Answer(status: Int(response.status.code), headers: response.headers, body: Data(buffer.readableBytesView))
            } catch {
                throw TransportError(message: "No answer from \(baseURL): \(Self.describe(error))", underlying: error)
            }
            guard [301, 302, 303, 307, 308].contains(answer.status), let location = answer.headers.first(name: "Location") else {
                return answer
            }
            let from = URL(string: current)
            let origin = from.flatMap(Self.origin(of:))
            guard let from, let origin, let target = URL(string: location, relativeTo: from)?.absoluteURL,
                Self.origin(of: target) == origin
            else {
                throw TransportError(
                    message: "\(current) redirected to \(location), outside \(origin ?? current); the API key is sent only "
                        + "there: if the coordinator has moved, use its new address as the base URL")
            }
            if answer.status == 303 {
                method = .GET
                payload = nil
                headers.remove(name: "Content-Type")
            }
            current = target.absoluteString
        }
        throw TransportError(message: "More than \(Self.maximumRedirects) redirects from \(url)")
    }

    /// Scheme, host and port (the scheme's default when not written), lowercased; nil without a host.
    static func origin(of url: URL) -> String? {
        guard let scheme = url.scheme?.lowercased(), let host = url.host?.lowercased() else { return nil }
        let port = url.port ?? (scheme == "https" ? 443 : scheme == "http" ? 80 : -1)
        return "\(scheme)://\(host):\(port)"
    }

    /// `Retry-After` seconds (or an exponential guess) plus up to 25% jitter, capped.
    func retryDelay(retryAfter: Int?, attempt: Int) -> Duration {
        let base = Double(retryAfter ?? (1 << min(attempt, 5)))
        let jittered = base * Double.random(in: 1.0...1.25)
        let capped = min(jittered, Double(configuration.maximumRetryDelay.components.seconds))
        return .milliseconds(Int(capped * 1000))
    }

    static func rateLimit(of headers: HTTPHeaders) -> RateLimitState? {
        guard let limit = headers.first(name: "X-RateLimit-Limit").flatMap({ Int($0) }),
            let remaining = headers.first(name: "X-RateLimit-Remaining").flatMap({ Int($0) }),
            let reset = headers.first(name: "X-RateLimit-Reset").flatMap({ Int($0) })
        else { return nil }
        return RateLimitState(limit: limit, remaining: remaining, reset: Date(timeIntervalSince1970: TimeInterval(reset)))
    }

    static func describe(_ error: any Error) -> String {
        let text = "\(error)"
        return text.count > 200 ? String(text.prefix(200)) + "…" : text
    }
}

import AITBCDomain
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends webhooks with AsyncHTTPClient: redirects are not followed and the answer's body is never
/// read. The host is resolved and every address checked against the policy first; a plain `http`
/// URL is then sent to the checked address itself (with the `Host` header), so a name that
/// resolves differently a moment later cannot redirect it. (`https` keeps the name for TLS; the
/// window between the check and the client's own resolution is the one left.)
struct HTTPWebhookTransport: WebhookTransport {
    let client: HTTPClient
    let resolver: any WebhookAddressResolver

    /// A client that follows no redirect and decompresses nothing; the caller shuts it down.
    static func makeClient() -> HTTPClient {
        HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(10)),
                decompression: .disabled))
    }

    func post(
        url: String, headers: [(String, String)], body: String, policy: WebhookTargetPolicy, timeout: Duration
    ) async -> WebhookResponse {
        guard var components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return .failed("invalid url")
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        let addresses: [IPAddress]
        if let literal = IPAddress(bare) {
            addresses = [literal]
        } else {
            do { addresses = try await resolver.addresses(host: bare, port: components.port ?? 443) } catch {
                return .failed("host does not resolve")
            }
        }
        guard let first = addresses.first else { return .failed("host does not resolve") }
        if let refused = addresses.first(where: { !policy.permits($0) }) {
            return .failed("refused: \(refused) is an internal address")
        }
        var request = HTTPClientRequest(url: url)
        if components.scheme?.lowercased() == "http" {
            components.host = first.ipv4 != nil ? first.description : "[\(first.description)]"
            guard let pinned = components.string else { return .failed("invalid url") }
            request = HTTPClientRequest(url: pinned)
            request.headers.add(name: "Host", value: components.port.map { "\(host):\($0)" } ?? host)
        }
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let seconds = timeout.components.seconds
        do {
            let response = try await client.execute(request, timeout: .seconds(max(1, seconds)))
            return .status(Int(response.status.code))
        } catch {
            return .failed(Self.reason(error))
        }
    }

    /// A short reason for the delivery log, naming no internals beyond the kind of failure.
    static func reason(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            if error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout { return "timeout" }
            return "transport error: \(error)"
        }
        return "connection failed: \(type(of: error))"
    }
}

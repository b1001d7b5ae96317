import AITBCDomain
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Sends webhooks with AsyncHTTPClient: redirects are not followed and the answer's body is never
/// read. The host is resolved once and every address checked against the policy; the connection
/// then goes to the first checked address itself (``PinnedHTTPClients``), for `http` and `https`
/// alike, so a name that resolves differently a moment later (DNS rebinding) cannot redirect it.
/// The URL, and so the `Host` header, TLS server name and certificate check, keep the name.
struct HTTPWebhookTransport: WebhookTransport {
    let clients: PinnedHTTPClients
    let resolver: any WebhookAddressResolver

    func post(
        url: String, headers: [(String, String)], body: String, policy: WebhookTargetPolicy, timeout: Duration
    ) async -> WebhookResponse {
        // The host as AsyncHTTPClient reads it (`URL.host`), which is the name its pin is looked up by;
        // one that parsers might read differently is refused (creation refuses it too).
        guard let parsed = URL(string: url), let host = parsed.host, !host.isEmpty else {
            return .failed("invalid url")
        }
        let bare = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard WebhookTargetPolicy.isPlainHost(bare) else { return .failed("invalid url") }
        let addresses: [IPAddress]
        if let literal = IPAddress(bare) {
            addresses = [literal]
        } else {
            let port = parsed.port ?? (parsed.scheme?.lowercased() == "http" ? 80 : 443)
            do { addresses = try await resolver.addresses(host: bare, port: port) } catch {
                return .failed("host does not resolve")
            }
        }
        guard let first = addresses.first else { return .failed("host does not resolve") }
        if let refused = addresses.first(where: { !policy.permits($0) }) {
            return .failed("refused: \(refused) is an internal address")
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(string: body))
        let seconds = timeout.components.seconds
        do {
            return try await clients.withClient(host: host, address: first) { client in
                let response = try await client.execute(request, timeout: .seconds(max(1, seconds)))
                return .status(Int(response.status.code))
            }
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

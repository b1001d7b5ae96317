import Foundation

/// Sends one webhook request: resolves the host, refuses an address the policy forbids, POSTs with
/// no redirects followed and reads nothing of the answer beyond its status.
public protocol WebhookTransport: Sendable {
    func post(url: String, headers: [(String, String)], body: String, policy: WebhookTargetPolicy, timeout: Duration) async
        -> WebhookResponse
}

/// What a webhook request found: the status code, or why there is none.
public enum WebhookResponse: Sendable, Equatable {
    case status(Int)
    case failed(String)
}

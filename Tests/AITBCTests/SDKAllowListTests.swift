import AITBC
import Foundation
import Testing

/// The SDK sends and reads `allowed_ips`, and a refusal from outside the list is a `PermissionError`.
@Suite struct SDKAllowListTests {
    @Test func allowedIPsAreSentReturnedChangedAndCleared() async throws {
        try await LiveServer.run { url in
            let master = try LiveServer.sdk(url, key: LiveServer.master)
            // The SDK reaches the live server from loopback.
            let created = try await master.apiKeys.create(
                name: "office", role: "client", allowedIPs: ["127.0.0.1", "::1", "203.0.113.0/24"])
            #expect(created.allowedIPs == ["127.0.0.1/32", "::1/128", "203.0.113.0/24"])
            let user = try LiveServer.sdk(url, key: try #require(created.apiKey))
            #expect(try await user.me().allowedIPs == created.allowedIPs)

            let narrowed = try await master.apiKeys.update(created.keyID, allowedIPs: .some(["203.0.113.0/24"]))
            #expect(narrowed.allowedIPs == ["203.0.113.0/24"])
            do {
                _ = try await user.me()
                Issue.record("a key was used from outside its allow-list")
            } catch let error as PermissionError {
                #expect(error.info.code == "IP_NOT_ALLOWED")
            }
            let cleared = try await master.apiKeys.update(created.keyID, allowedIPs: .some(nil))
            #expect(cleared.allowedIPs == nil)
            #expect(try await user.me().allowedIPs == nil)
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import Testing

extension ClusterTests {
    @Test func anAllowListSetOnOneInstanceIsEnforcedByTheOther() async throws {
        let pair = try await Self.pair()
        try await Self.withSync(pair) {
            let master = try await Self.principal(pair.a, Harness.masterKey)
            let issued = try await pair.a.keys.create(NewKeyRequest(name: "office", role: "client"), by: master)
            // B has the key cached, without a list, before the change.
            #expect(try await Self.principal(pair.b, issued.secret).key.allowedIPs == nil)
            _ = try await pair.a.keys.update(
                issued.record.id, UpdateAPIKeyRequest(allowedIPs: .some(["203.0.113.0/24"])), by: master)
            #expect(try await Self.principal(pair.a, issued.secret).key.allowedIPs?.entries == ["203.0.113.0/24"])
            #expect(try await Self.eventually {
                try await Self.principal(pair.b, issued.secret).key.allowedIPs?.entries == ["203.0.113.0/24"]
            })
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import Testing

@testable import AITBCServer

/// A storage read that began before a revoke, a regeneration or a plan change never puts the old
/// state back into the cache once the change has been acknowledged. Each test holds a lookup
/// between its read and its answer, makes the change meanwhile, then lets the lookup finish.
@Suite struct RevocationRaceTests {
    /// A coordinator on the harness's store, through a store that can hold a lookup.
    static func coordinator(_ harness: Harness) -> (Coordinator, CountingStore) {
        let counting = CountingStore(harness.coordinator.store)
        let coordinator = Coordinator(
            store: counting, settings: harness.settings, time: harness.clock,
            developmentDigests: Set(harness.settings.developmentKeys.values.map { APIKeyDigest(of: $0) }))
        return (coordinator, counting)
    }

    static func operatorPrincipal(_ coordinator: Coordinator) async throws -> Principal {
        try await coordinator.authenticator.authenticate(Harness.operatorKey, from: nil)
    }

    @Test func aLookupReadBeforeARevokeDoesNotCacheTheKeyAsActiveAgain() async throws {
        let harness = try await Harness.make()
        let (coordinator, counting) = Self.coordinator(harness)
        let admin = try await Self.operatorPrincipal(coordinator)
        let issued = try await coordinator.keys.create(
            NewKeyRequest(name: "victim", role: "client", tenantID: "test-tenant"), by: admin)
        coordinator.authenticator.forget(issued.record.digest)
        let lookupsBefore = counting.keyLookups

        let held = counting.holdNextKeyLookup()
        let inFlight = Task { try await coordinator.authenticator.authenticate(issued.secret, from: nil) }
        await held.readDone()
        // The lookup has read the key as active; the revoke is acknowledged while it is held.
        _ = try await coordinator.keys.revoke(issued.record.id, by: admin)
        held.release()
        // A request concurrent with the revoke may go either way; every later one is refused.
        _ = try? await inFlight.value
        await #expect(throws: CoordinatorError.revokedKey) {
            _ = try await coordinator.authenticator.authenticate(issued.secret, from: nil)
        }
        // Refused from memory: the revoke's own record is what the cache holds.
        #expect(counting.keyLookups == lookupsBefore + 1)
        await harness.close()
    }

    @Test func aLookupReadBeforeARegenerationDoesNotBringTheOldSecretBack() async throws {
        let harness = try await Harness.make()
        let (coordinator, counting) = Self.coordinator(harness)
        let admin = try await Self.operatorPrincipal(coordinator)
        let issued = try await coordinator.keys.create(
            NewKeyRequest(name: "rotated", role: "client", tenantID: "test-tenant"), by: admin)
        coordinator.authenticator.forget(issued.record.digest)

        let held = counting.holdNextKeyLookup()
        let inFlight = Task { try await coordinator.authenticator.authenticate(issued.secret, from: nil) }
        await held.readDone()
        let fresh = try await coordinator.keys.regenerate(issued.record.id, gracePeriodSeconds: 0, by: admin)
        held.release()
        _ = try? await inFlight.value
        await #expect(throws: CoordinatorError.invalidKey) {
            _ = try await coordinator.authenticator.authenticate(issued.secret, from: nil)
        }
        #expect(try await coordinator.authenticator.authenticate(fresh.secret, from: nil).key.id == issued.record.id)
        await harness.close()
    }

    @Test func aTenantReadBeforeAPlanChangeDoesNotBringTheOldLimitBack() async throws {
        let harness = try await Harness.make(plan: "free")
        let (coordinator, counting) = Self.coordinator(harness)
        let admin = try await Self.operatorPrincipal(coordinator)
        coordinator.authenticator.forgetTenant("test-tenant")

        let held = counting.holdNextTenantLookup()
        let inFlight = Task { try await coordinator.authenticator.tenant(id: "test-tenant") }
        await held.readDone()
        _ = try await coordinator.tenants.update(
            "test-tenant", plan: "enterprise", name: nil, rateLimitPerMinute: nil, by: admin)
        held.release()
        #expect(try await inFlight.value?.plan == "free")
        let client = try await coordinator.authenticator.authenticate(Harness.clientKey, from: nil)
        #expect(client.tenant.plan == "enterprise")
        #expect(client.tenantLimit == 6000)
        await harness.close()
    }
}

import AITBCDomain
import AITBCWire
import Testing

/// The per-key and per-tenant caps on waiting long-polls, and the slots they give back.
@Suite struct LongPollSlotsTests {
    @Test func aKeyBeyondItsCapIsRefusedWith429NamingTheBound() throws {
        let slots = LongPollSlots(perKey: 2, perTenant: 10)
        _ = try slots.acquire(keyID: "key_a", tenantID: "t1")
        _ = try slots.acquire(keyID: "key_a", tenantID: "t1")
        let error = try #require(throws: CoordinatorError.self) { try slots.acquire(keyID: "key_a", tenantID: "t1") }
        #expect(error.kind == .rateLimited(retryAfterSeconds: 1))
        #expect(error.code == .rateLimitExceeded)
        #expect(error.details == ["bound": "long_polls_per_key", "limit": 2])
        // Another key of the tenant still has room; the refusal took nothing.
        _ = try slots.acquire(keyID: "key_b", tenantID: "t1")
        #expect(slots.waiting(keyID: "key_a") == 2)
        #expect(slots.waiting(tenantID: "t1") == 3)
    }

    @Test func aTenantBeyondItsCapIsRefusedWhateverTheKeyAndOtherTenantsAreNot() throws {
        let slots = LongPollSlots(perKey: 10, perTenant: 2)
        _ = try slots.acquire(keyID: "key_a", tenantID: "t1")
        _ = try slots.acquire(keyID: "key_b", tenantID: "t1")
        let error = try #require(throws: CoordinatorError.self) { try slots.acquire(keyID: "key_c", tenantID: "t1") }
        #expect(error.details["bound"] == "long_polls_per_tenant")
        #expect(slots.waiting(keyID: "key_c") == 0)
        _ = try slots.acquire(keyID: "key_d", tenantID: "t2")
        #expect(slots.total == 3)
    }

    @Test func aReleasedSlotIsFreeAgainForTheSameKey() throws {
        let slots = LongPollSlots(perKey: 1, perTenant: 1)
        let slot = try slots.acquire(keyID: "key_a", tenantID: "t1")
        #expect(throws: CoordinatorError.self) { try slots.acquire(keyID: "key_a", tenantID: "t1") }
        slots.release(slot)
        #expect(slots.total == 0)
        let again = try slots.acquire(keyID: "key_a", tenantID: "t1")
        slots.release(again)
        #expect(slots.waiting(keyID: "key_a") == 0)
        #expect(slots.waiting(tenantID: "t1") == 0)
    }
}

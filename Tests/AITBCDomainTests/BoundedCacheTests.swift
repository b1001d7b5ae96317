import AITBCDomain
import Testing

/// The authentication cache holds at most its capacity, whatever is thrown at it.
@Suite struct BoundedCacheTests {
    @Test func neverHoldsMoreThanItsCapacity() {
        let cache = BoundedCache<Int, Int>(capacity: 100)
        for index in 0..<10_000 { cache.set(index, for: index) }
        #expect(cache.count <= 100)
        #expect(cache.value(for: 9_999) == 9_999)
        #expect(cache.value(for: 0) == nil)
    }

    @Test func recentlyReadEntriesSurviveRotation() {
        let cache = BoundedCache<Int, Int>(capacity: 10)
        cache.set(-1, for: -1)
        for index in 0..<50 {
            cache.set(index, for: index)
            #expect(cache.value(for: -1) == -1)
        }
    }

    @Test func removeForgets() {
        let cache = BoundedCache<String, Int>(capacity: 10)
        cache.set(1, for: "a")
        cache.remove("a")
        #expect(cache.value(for: "a") == nil)
    }
}

import AITBCDomain
import AITBCStorage
import AITBCWire
import Foundation
import Testing

extension StoreContractTests {
    /// A payload, result, receipt and metrics with numbers Foundation's encoder would change.
    static var awkwardNumbers: [String: JSONValue] { [
        "big": .largeInteger("12345678901234567890"), "negative": .largeInteger("-1180591620717411303424"),
        "units": .double(2.0), "zero": .double(-0.0), "huge": .double(1e16), "min": .int(Int.min),
    ] }

    @Test(arguments: backends.map { $0.name })
    func jobsKeepLargeIntegersAndWholeFloatsAsStored(backend: String) async throws {
        let store = try await Self.prepared(Self.backends.first { $0.name == backend }!.make)
        var job = Job(
            id: "job_n", tenantID: "t1", clientKeyID: "key_c", payload: .object(Self.awkwardNumbers), constraints: Self.awkwardNumbers,
            ttlSeconds: 60, requestedAt: Self.now, expiresAt: Self.now.addingTimeInterval(60))
        #expect(try await store.insertJob(job, idempotency: nil) == .inserted)
        let stored = try #require(try await store.job(id: "job_n"))
        #expect(stored == job)
        #expect(stored.payload["units"] == .double(2.0))
        #expect(stored.payload["zero"]?.doubleValue?.sign == .minus)
        #expect(stored.payload["big"] == .largeInteger("12345678901234567890"))

        job.state = .completed
        job.result = .object(Self.awkwardNumbers)
        job.receipt = ["units": .double(3.0), "metadata": .object(["job_payload": .object(Self.awkwardNumbers)])]
        job.metrics = Self.awkwardNumbers
        job.finishedAt = Self.now.addingTimeInterval(3)
        #expect(try await store.updateJob(job, ifStateIn: [.queued]))
        let finished = try #require(try await store.job(id: "job_n"))
        #expect(finished == job)
        #expect(finished.receipt?["units"] == .double(3.0))
        #expect(finished.result?["negative"] == .largeInteger("-1180591620717411303424"))
        try await store.close()
    }
}

import AITBCDomain

extension CountingStore {
    func usageReport(_ query: UsageReportQuery) async throws -> [UsageReportRow] {
        try await base.usageReport(query)
    }
}

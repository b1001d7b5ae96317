import AITBCDomain

extension Coordinator {
    /// Usage reports over this coordinator's store, flushing its own counters before each read.
    public var usageReports: UsageReportService {
        UsageReportService(store: store, authenticator: authenticator, flusher: flusher, time: time)
    }
}

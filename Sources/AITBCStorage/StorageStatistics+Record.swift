import AITBCDomain

extension StorageStatistics {
    /// Counts one operation that began at `start` (for `/metrics`), and whether it failed.
    mutating func record(since start: ContinuousClock.Instant, failed: Bool) {
        let elapsed = ContinuousClock.now - start
        operations += 1
        if failed { failures += 1 }
        totalSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}

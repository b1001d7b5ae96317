import Testing

/// Waits until `condition` holds (checked every 10 ms), failing after `limit`.
func waitUntil(
    _ limit: Duration = .seconds(15), sourceLocation: SourceLocation = #_sourceLocation, _ condition: () async -> Bool
) async throws {
    let deadline = ContinuousClock.now + limit
    while await !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("the condition did not hold within \(limit)", sourceLocation: sourceLocation)
            throw WireError(description: "timed out")
        }
        try await Task.sleep(for: .milliseconds(10))
    }
}

extension CoordinatorSettings {
    /// The parent-watch setting `--help` lists.
    static let parentWatchDocumentation: [(variable: String, defaultValue: String, meaning: String)] = [
        (
            "AITBC_PARENT_PID", "(unset)",
            "for test harnesses: shut down as on SIGTERM once the process with this id is no longer this one's parent"
        )
    ]

    /// Reads `AITBC_PARENT_PID`: a process id, or nil when unset.
    static func parseParentProcessID(_ raw: String?) throws -> Int32? {
        guard let raw, !raw.isEmpty else { return nil }
        guard let pid = Int32(raw), pid > 0 else {
            throw Invalid(description: "AITBC_PARENT_PID must be a process id (a positive integer), got \(raw)")
        }
        return pid
    }
}

/// Whether the caller of a long-poll is still there to read the answer.
public protocol CallerPresence: Sendable {
    /// Starts watching the caller; called only when the poll is about to wait.
    func watch() async
    /// True once the caller has gone (its connection closed).
    var hasDeparted: Bool { get }
    /// Returns when the caller has gone, or at once when the calling task is cancelled.
    func departure() async
}

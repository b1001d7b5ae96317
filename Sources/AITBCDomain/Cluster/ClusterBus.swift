/// How coordinator instances on one shared store tell each other about changes.
public protocol ClusterBus: Sendable {
    /// Whether other instances may share the store; false for the embedded SQLite store.
    var isShared: Bool { get }
    /// Sends `event` to the other instances. Best effort: it never throws, and a lost event is caught
    /// by reconciliation and cache lifetimes.
    func publish(_ event: ClusterEvent) async
    /// Events from the other instances (not this one's own), and ``ClusterEvent/resync`` whenever some
    /// may have been missed. One subscriber.
    func events() -> AsyncStream<ClusterEvent>
}

/// The bus of an instance that is alone with its store: nothing to tell, nothing to hear.
public struct StandaloneBus: ClusterBus {
    public init() {}
    public var isShared: Bool { false }
    public func publish(_ event: ClusterEvent) async {}
    public func events() -> AsyncStream<ClusterEvent> { AsyncStream { $0.finish() } }
}

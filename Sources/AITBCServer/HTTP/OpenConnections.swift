import Synchronization

/// How many connections the server holds open right now (`aitbc_open_connections` in `/metrics`).
public final class OpenConnections: Sendable {
    private let count = Atomic<Int>(0)

    public init() {}

    public var current: Int { count.load(ordering: .relaxed) }

    func opened() { count.add(1, ordering: .relaxed) }

    func closed() { count.subtract(1, ordering: .relaxed) }
}

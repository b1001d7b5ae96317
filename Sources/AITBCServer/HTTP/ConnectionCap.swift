import HummingbirdCore

/// The server's cap on open connections: at the cap it stops accepting, so new connections wait in
/// the listen backlog (and beyond it are refused by the kernel) until one closes; the open ones go
/// on working. Accepts come in bursts of up to four, so a burst may pass the cap by three.
struct ConnectionCap: AvailableConnectionsDelegate {
    let maximum: Int
    let open: OpenConnections

    mutating func connectionOpened() { open.opened() }

    mutating func connectionClosed() { open.closed() }

    func isAcceptingNewConnections() -> Bool { open.current < maximum }
}

import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP relay on 127.0.0.1 in front of another local port, which a test can stop (every
/// connection cut, new ones refused, like a database going away) and start again on the same port,
/// or freeze (nothing gets through either way and nothing is closed, like a network partition).
final class TCPProxy: @unchecked Sendable {
    private let targetPort: Int
    private let lock = NSLock()
    private var listener: Int32 = -1
    private var connections: [Int32] = []
    /// While frozen, relayed bytes are dropped and new connections are held open, never relayed.
    private var frozen = false
    private var held: [Int32] = []
    private(set) var port = 0

    init(targetPort: Int) {
        self.targetPort = targetPort
    }

    /// Listens on `port` (0: any free port) and relays every connection to the target.
    func start(port requested: Int = 0) throws {
        var lastError: Int32 = 0
        // A restart on the same port may race the previous listener's close: retry briefly.
        for _ in 0..<50 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var yes: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
            var address = Self.loopback(port: requested)
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            if bound == 0, listen(fd, 64) == 0 {
                _ = withUnsafeMutablePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                }
                lock.withLock {
                    listener = fd
                    port = Int(UInt16(bigEndian: address.sin_port))
                }
                Thread.detachNewThread { self.acceptLoop(fd) }
                return
            }
            lastError = errno
            close(fd)
            usleep(100_000)
        }
        throw ProxyError(description: "cannot listen on 127.0.0.1:\(requested) (errno \(lastError))")
    }

    /// Cuts the network without closing anything: bytes either way are dropped, new connections
    /// are accepted and then ignored.
    func freeze() {
        lock.withLock { frozen = true }
    }

    /// Lets bytes through again (connections frozen meanwhile have lost what was sent).
    func thaw() {
        lock.withLock {
            frozen = false
            for socket in held { close(socket) }
            held = []
        }
    }

    private var isFrozen: Bool { lock.withLock { frozen } }

    /// Closes the listener and cuts every relayed connection.
    func stop() {
        // Under the lock: a socket is removed from `connections` before it is closed, so no number
        // shut down here can belong to something else by now.
        lock.withLock {
            if listener >= 0 { shutdown(listener, Int32(SHUT_RDWR)) }
            for socket in connections { shutdown(socket, Int32(SHUT_RDWR)) }
            for socket in held { close(socket) }
            held = []
            frozen = false
            listener = -1
        }
    }

    private func acceptLoop(_ fd: Int32) {
        while true {
            let client = accept(fd, nil, nil)
            if client < 0, errno == EINTR { continue }
            guard client >= 0 else { break }
            let ignored = lock.withLock { () -> Bool in
                guard frozen else { return false }
                held.append(client)
                return true
            }
            if ignored { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: targetPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            let accepted = lock.withLock { () -> Bool in
                guard listener == fd, connected == 0 else { return false }
                connections += [client, upstream]
                return true
            }
            guard accepted else {
                close(client)
                close(upstream)
                continue
            }
            let pair = SocketPair(client, upstream, proxy: self)
            Thread.detachNewThread { Self.pump(from: client, to: upstream, pair: pair) }
            Thread.detachNewThread { Self.pump(from: upstream, to: client, pair: pair) }
        }
        // Forgotten before it is closed, so that `stop()` never shuts down a reused descriptor.
        lock.withLock {
            if listener == fd { listener = -1 }
            close(fd)
        }
    }

    /// Copies bytes one way until either side ends; the second pump to finish closes both sockets.
    private static func pump(from source: Int32, to destination: Int32, pair: SocketPair) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        copying: while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            if pair.proxy.isFrozen { continue }
            var written = 0
            while written < count {
                let result = buffer.withUnsafeBytes { write(destination, $0.baseAddress! + written, count - written) }
                guard result > 0 else { break copying }
                written += result
            }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
        pair.finishOne()
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// The two sockets of one relayed connection, closed once both directions are done.
    private final class SocketPair: @unchecked Sendable {
        private let lock = NSLock()
        private var running = 2
        private let sockets: (Int32, Int32)
        let proxy: TCPProxy

        init(_ first: Int32, _ second: Int32, proxy: TCPProxy) {
            sockets = (first, second)
            self.proxy = proxy
        }

        func finishOne() {
            let last = lock.withLock {
                running -= 1
                return running == 0
            }
            guard last else { return }
            proxy.lock.withLock {
                proxy.connections.removeAll { $0 == sockets.0 || $0 == sockets.1 }
                close(sockets.0)
                close(sockets.1)
            }
        }
    }

    struct ProxyError: Error, CustomStringConvertible {
        var description: String
    }
}

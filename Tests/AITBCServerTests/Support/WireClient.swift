import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// One raw TCP (optionally TLS) connection to a live server, for tests where the bytes on the wire
/// and the moment the server closes matter: it sends exactly what it is given and records what
/// comes back and when the connection closed.
final class WireClient: Sendable {
    /// An HTTP/1.1 response read off the wire.
    struct Response: Sendable {
        var status: Int
        var headers: [String: String]
        var body: String
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:] }
        var errorCode: String? { (json["error"] as? [String: Any])?["code"] as? String }
        var errorDetails: [String: Any] { (json["error"] as? [String: Any])?["details"] as? [String: Any] ?? [:] }
    }

    private struct State {
        var received: [UInt8] = []
        var closedAt: ContinuousClock.Instant?
    }

    private let channel: any Channel
    private let recorder: Recorder
    let openedAt: ContinuousClock.Instant

    private init(channel: any Channel, recorder: Recorder, openedAt: ContinuousClock.Instant) {
        self.channel = channel
        self.recorder = recorder
        self.openedAt = openedAt
    }

    /// Connects to 127.0.0.1:`port`; with `tls`, through a TLS client that trusts the test certificate.
    static func connect(port: Int, tls: NIOSSLContext? = nil) async throws -> WireClient {
        let recorder = Recorder()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: tls, serverHostname: "localhost"))
                    }
                    try channel.pipeline.syncOperations.addHandler(recorder)
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return WireClient(channel: channel, recorder: recorder, openedAt: .now)
    }

    /// One request on a connection of its own, closed after the answer.
    static func call(
        port: Int, _ method: String, _ path: String, key: String? = nil, body: String? = nil
    ) async throws -> Response {
        let connection = try await connect(port: port)
        do {
            let response = try await connection.request(method, path, key: key, body: body)
            await connection.close()
            return response
        } catch {
            await connection.close()
            throw error
        }
    }

    /// Writes `text` as it is.
    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text))
    }

    /// Sends one request (kept alive) and waits up to `within` for its response.
    func request(
        _ method: String, _ path: String, key: String? = nil, body: String? = nil, within: Duration = .seconds(30)
    ) async throws -> Response {
        try await sendRequest(method, path, key: key, body: body)
        guard let response = try await response(within: within) else {
            throw WireError(description: "no response to \(method) \(path) within \(within)")
        }
        return response
    }

    /// Sends one request (kept alive) without waiting for its response.
    func sendRequest(_ method: String, _ path: String, key: String? = nil, body: String? = nil) async throws {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if let key { head += "X-API-Key: \(key)\r\n" }
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        try await send(head + "\r\n" + (body ?? ""))
    }

    /// The next complete response, or nil if none came within `within` (or the connection closed first).
    func response(within: Duration) async throws -> Response? {
        let deadline = ContinuousClock.now + within
        while true {
            let (parsed, closed) = recorder.state.withLock { state in (Self.takeResponse(from: &state.received), state.closedAt != nil) }
            if let parsed { return parsed }
            if closed || ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// When the server closed the connection, waiting up to `within`; nil if it is still open then.
    func closed(within: Duration) async throws -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + within
        while true {
            if let closedAt = recorder.state.withLock({ $0.closedAt }) { return closedAt }
            if ContinuousClock.now >= deadline { return nil }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    var isClosed: Bool { recorder.state.withLock { $0.closedAt != nil } }

    /// Closes this side.
    func close() async {
        try? await channel.close()
    }

    /// Closes the writing half only (TCP FIN): the server sees the client's side close, and this
    /// client can still read what it answers.
    func closeOutput() async {
        try? await channel.close(mode: .output)
    }

    /// Removes one complete response from the front of `bytes`, if there is one.
    private static func takeResponse(from bytes: inout [UInt8]) -> Response? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.indices.dropLast(3).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else { return nil }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else {
            return nil
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let bodyStart = end + 4
        guard bytes.count >= bodyStart + length else { return nil }
        let body = String(decoding: bytes[bodyStart..<bodyStart + length], as: UTF8.self)
        bytes.removeFirst(bodyStart + length)
        return Response(status: status, headers: headers, body: body)
    }

    /// Keeps what arrives and the moment the connection closed.
    private final class Recorder: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer

        let state = Mutex(State())

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let buffer = unwrapInboundIn(data)
            state.withLock { $0.received.append(contentsOf: buffer.readableBytesView) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            state.withLock { $0.closedAt = $0.closedAt ?? .now }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}

struct WireError: Error, CustomStringConvertible {
    var description: String
}

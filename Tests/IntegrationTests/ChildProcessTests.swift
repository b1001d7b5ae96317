import AITBCTestSupport
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A child process started by a test holds none of the test process's sockets: a connection an
/// in-process server closes while a child runs reaches its client at once.
///
/// NIO opens sockets on Linux without close-on-exec. Before `ChildProcess` closed every descriptor
/// above standard error in the child, a coordinator process started by one test kept a copy of every
/// connection the test process had open, so the server side's close sent no FIN until that process
/// exited: the read-timeout test saw its stalled connections closed after 15 s instead of 1 s
/// whenever the fifty-miner test ran beside it.
@Suite struct ChildProcessTests {
    @Test func aConnectionClosedWhileAChildRunsIsClosedForItsClient() async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let accepted = group.any().makePromise(of: (any Channel).self)
        let server = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                accepted.succeed(channel)
                return channel.eventLoop.makeSucceededVoidFuture()
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(server.localAddress?.port)
        let client = try await ClientBootstrap(group: group).connect(host: "127.0.0.1", port: port).get()
        let serverSide = try await accepted.futureResult.get()

        // Started while both ends and the listener are open; it outlives the test unless killed.
        let child = try ChildProcess.spawn("/bin/sleep", ["60"], environment: [:])
        defer {
            child.send(SIGKILL)
            child.waitUntilExit()
        }
        try await serverSide.close()
        let deadline = ContinuousClock.now + .seconds(10)
        while client.isActive, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        let closedInTime = !client.isActive
        #expect(child.isRunning, "the child still runs, so it held no copy of the connection")
        #expect(closedInTime, "the client still saw the connection open 10 s after the server closed it")
        try? await client.close()
        try await server.close()
    }
}

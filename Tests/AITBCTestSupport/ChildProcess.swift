import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started through `posix_spawn`, its standard output and error in files.
///
/// Foundation's `Process.run()` on Linux now and then crashes the whole test run: it copies each
/// `/proc/self/fd` entry's full 256-byte name and can read past glibc's directory buffer
/// (swift-corelibs-foundation pull request 5472). The tests start every child here instead.
///
/// The child gets standard input, output and error and no other descriptor of the test process. NIO
/// opens its sockets on Linux without close-on-exec, so without that a child would hold a copy of
/// every connection and listener open in the test process when it started: a connection an
/// in-process server closes would stay open to its client (no FIN while the child's copy lives),
/// until the child exited. That held the read-timeout test's forty stalled connections open as long
/// as a concurrent test's coordinator process ran (`ChildProcessTests`).
public final class ChildProcess: Sendable {
    /// Where one of the child's output streams goes.
    public enum Destination: Sendable {
        /// `/dev/null`.
        case discarded
        /// This file, created or truncated.
        case file(String)
        /// Standard error only: wherever standard output goes.
        case standardOutput
    }

    /// How a child run to its end ended and what it wrote.
    public struct Outcome: Sendable {
        /// The exit status, or 128 plus the signal that ended it.
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    public let processIdentifier: pid_t
    /// The exit status (or 128 plus the ending signal) once the child has been reaped.
    private let ending = Mutex<Int32?>(nil)

    private init(processIdentifier: pid_t) {
        self.processIdentifier = processIdentifier
    }

    /// Starts `path` with `arguments` and exactly `environment`, standard input from /dev/null.
    public static func spawn(
        _ path: String, _ arguments: [String], environment: [String: String],
        standardOutput: Destination = .discarded, standardError: Destination = .discarded
    ) throws -> ChildProcess {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (descriptor, destination) in [(Int32(1), standardOutput), (2, standardError)] {
            switch destination {
            case .discarded: posix_spawn_file_actions_addopen(&actions, descriptor, "/dev/null", O_WRONLY, 0)
            case .file(let path): posix_spawn_file_actions_addopen(&actions, descriptor, path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            case .standardOutput: posix_spawn_file_actions_adddup2(&actions, 1, descriptor)
            }
        }
        closeInheritedDescriptors(&actions)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        return ChildProcess(processIdentifier: pid)
    }

    /// Adds to `actions` the closing of every descriptor above standard error: with glibc's
    /// `posix_spawn_file_actions_addclosefrom_np` (2.34 and later; Swift's Glibc module does not
    /// declare it), else one close per descriptor open now.
    private static func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
        if let addCloseFrom, addCloseFrom(&actions, 3) == 0 { return }
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            // glibc skips a close action whose descriptor is already closed when the child runs.
            if let descriptor = Int32(name), descriptor > 2, descriptor != own {
                posix_spawn_file_actions_addclose(&actions, descriptor)
            }
        }
    }

    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private nonisolated(unsafe) static let addCloseFrom: AddCloseFrom? = {
        guard let process = dlopen(nil, RTLD_NOW), let symbol = dlsym(process, "posix_spawn_file_actions_addclosefrom_np") else {
            return nil
        }
        return unsafeBitCast(symbol, to: AddCloseFrom.self)
    }()

    /// Runs `path` to its end and collects what it wrote; with `mergingStandardError`, standard error
    /// is in `stdout` too.
    public static func run(
        _ path: String, _ arguments: [String], environment: [String: String], mergingStandardError: Bool = false
    ) throws -> Outcome {
        let outPath = temporaryPath("out"), errPath = temporaryPath("err")
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        let child = try spawn(
            path, arguments, environment: environment, standardOutput: .file(outPath),
            standardError: mergingStandardError ? .standardOutput : .file(errPath))
        let status = child.waitUntilExit()
        func text(_ path: String) -> String { (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return Outcome(status: status, stdout: text(outPath), stderr: mergingStandardError ? "" : text(errPath))
    }

    /// A fresh path in the temporary directory for a child's output.
    public static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("aitbc-child-\(UUID().uuidString).\(suffix)").path
    }

    /// Whether the child has not ended yet (an ended child is reaped here).
    public var isRunning: Bool { reap() == nil }

    /// The exit status, or 128 plus the signal that ended it; nil while the child runs.
    public var terminationStatus: Int32? { reap() }

    /// Sends `signal` to the child, unless it has already been reaped (its pid may be reused).
    public func send(_ signal: Int32) {
        ending.withLock { status in
            if status == nil { _ = kill(processIdentifier, signal) }
        }
    }

    /// Sends SIGTERM.
    public func terminate() { send(SIGTERM) }

    /// Blocks until the child has ended; returns its status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        while true {
            if let status = reap() { return status }
            usleep(10_000)
        }
    }

    /// Waits, without blocking a thread, until the child has ended; returns its status.
    @discardableResult
    public func waitForExit() async throws -> Int32 {
        while true {
            if let status = reap() { return status }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Reaps the child if it has ended; its status, or nil while it runs.
    private func reap() -> Int32? {
        ending.withLock { ending in
            if let ending { return ending }
            var status: Int32 = 0
            var result: pid_t
            repeat { result = waitpid(processIdentifier, &status, WNOHANG) } while result == -1 && errno == EINTR
            if result == 0 { return nil }
            // -1 (ECHILD): reaped by someone else; its status is lost.
            // The status word: the low seven bits are the ending signal (0: it exited), the next byte the exit code.
            let signal = status & 0x7f
            ending = result == -1 ? -1 : (signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            return ending
        }
    }
}

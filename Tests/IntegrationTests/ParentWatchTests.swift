import AITBCTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A coordinator started with the harness's parent watch outlives no parent: when the process that
/// started it dies (as a crashed test run does), it shuts down instead of running on as an orphan.
@Suite struct ParentWatchTests {
    /// Whether `pid` has ended: gone, or a zombie its new parent has not reaped yet.
    static func hasEnded(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
        // The state follows the command name, which is in parentheses and may itself hold spaces.
        guard let close = stat.lastIndex(of: ")") else { return true }
        return stat[close...].dropFirst(2).first == "Z"
    }

    @Test func aCoordinatorWhoseParentIsKilledShutsDown() async throws {
        let port = try CoordinatorProcess.freePort()
        let environment = try await CoordinatorProcess.environment(
            databasePath: CoordinatorProcess.temporaryDatabase(), port: port)
        let pidFile = ChildProcess.temporaryPath("pid")
        defer { unlink(pidFile) }
        // A shell stands in for the test process: it starts the coordinator watching the shell, writes
        // the coordinator's pid and waits.
        let shell = try ChildProcess.spawn(
            "/bin/sh", ["-c", #"AITBC_PARENT_PID=$$ "$0" & echo $! > "$1"; wait"#, try CoordinatorProcess.binaryPath(), pidFile],
            environment: environment)
        defer {
            shell.send(SIGKILL)
            shell.waitUntilExit()
        }
        var coordinator: pid_t?
        let deadline = ContinuousClock.now + .seconds(30)
        while coordinator == nil, ContinuousClock.now < deadline {
            coordinator = (try? String(contentsOfFile: pidFile, encoding: .utf8)).flatMap {
                pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines))
            }
            if coordinator == nil { try await Task.sleep(for: .milliseconds(20)) }
        }
        let pid = try #require(coordinator)
        defer { if !Self.hasEnded(pid) { kill(pid, SIGKILL) } }
        let url = "http://127.0.0.1:\(port)/health"
        var healthy = false
        while !healthy, ContinuousClock.now < deadline {
            healthy = (try? await CoordinatorProcess.send(.GET, url).status) == 200
            if !healthy { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(healthy)
        // With its parent alive it keeps running (the watch checks every 250 ms).
        try await Task.sleep(for: .seconds(1))
        #expect(!Self.hasEnded(pid))
        #expect(try await CoordinatorProcess.send(.GET, url).status == 200)

        shell.send(SIGKILL)
        shell.waitUntilExit()
        let killed = ContinuousClock.now
        while !Self.hasEnded(pid), ContinuousClock.now - killed < .seconds(20) {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Self.hasEnded(pid), "the orphaned coordinator still runs 20 s after its parent was killed")
        #expect((try? await CoordinatorProcess.send(.GET, url)) == nil)
    }
}

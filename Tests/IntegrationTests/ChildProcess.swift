import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Runs a program to its end through `posix_spawn`, its output collected in temporary files.
///
/// Foundation's `Process.run()` on Linux now and then crashes the whole test run: it copies each
/// `/proc/self/fd` entry's full 256-byte name and can read past glibc's directory buffer
/// (swift-corelibs-foundation pull request 5472). The CLI tests start the most children, so they
/// start them here.
enum ChildProcess {
    /// How a child ended and what it wrote.
    struct Outcome {
        /// The exit status, or 128 plus the signal that ended it.
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `path` with `arguments` and exactly `environment`, standard input from /dev/null; with
    /// `mergingStandardError`, what it writes to standard error is in `stdout` too.
    static func run(
        _ path: String, _ arguments: [String], environment: [String: String], mergingStandardError: Bool = false
    ) throws -> Outcome {
        let directory = FileManager.default.temporaryDirectory.path
        let name = UUID().uuidString
        let outPath = "\(directory)/aitbc-child-\(name).out"
        let errPath = "\(directory)/aitbc-child-\(name).err"
        defer {
            unlink(outPath)
            unlink(errPath)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        if mergingStandardError {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for pointer in argv { free(pointer) }
            for pointer in envp { free(pointer) }
        }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard spawned == 0 else { throw POSIXError(POSIXErrorCode(rawValue: spawned) ?? .EIO) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 {
            guard errno == EINTR else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ECHILD) }
        }
        // The status word: the low seven bits are the ending signal (0: it exited), the next byte the exit code.
        let signal = status & 0x7f
        let code = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        func text(_ path: String) -> String {
            (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        }
        return Outcome(status: code, stdout: text(outPath), stderr: mergingStandardError ? "" : text(errPath))
    }
}

import Foundation
import Testing

extension CLITests {
    /// Each command's `--help` names every flag it takes (the commands of quotas, credits, allow-lists
    /// and usage reports), and exits 0 without a key or a server.
    @Test(arguments: [
        (["api-keys", "create"], ["--name", "--role", "--scope", "--expires-at", "--rate-limit", "--credits", "--refill", "--allow-ip"]),
        (["api-keys", "top-up"], ["--credits", "--refill", "<key-id>"]),
        (["api-keys", "update"], ["--name", "--rate-limit", "--clear-rate-limit", "--allow-ip", "--allow-any-ip", "<key-id>"]),
        (["tenants", "set-plan"], ["--rate-limit", "--quota-per-day", "--quota-per-month", "<tenant-id>", "<plan>"]),
        (["usage"], ["--from", "--to", "--granularity", "--by-key", "--tenant-id", "--page-size", "--csv"]),
        (["me"], ["--url", "--api-key", "--tenant", "--json", "--retries"]),
    ])
    func helpNamesEveryFlagOfTheCommand(command: [String], flags: [String]) throws {
        let help = try Self.aitbc(command + ["--help"], key: nil, url: "http://127.0.0.1:9")
        #expect(help.status == 0)
        for flag in flags { #expect(help.stdout.contains(flag), "\(command.joined(separator: " ")) --help lacks \(flag)") }
        // Every command takes the global options.
        #expect(help.stdout.contains("--json") && help.stdout.contains("--retries"))
    }
}

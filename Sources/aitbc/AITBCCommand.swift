import AITBC
import ArgumentParser
import Foundation

/// `aitbc`: the command line for people and scripts.
@main
struct AITBCCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "aitbc",
        abstract: "Command line for the AITBC Coordinator: API keys, jobs, miners, tenants, usage reports.",
        discussion: """
            Settings (every command):
              --url      AITBC_URL        default http://127.0.0.1:8000
              --api-key  AITBC_API_KEY    the key to call with
              --tenant   AITBC_TENANT_ID  act inside a tenant (operator keys)
              --json     print the server's JSON instead of tables
              --retries  retries of a 429 or 503 (default 2), honouring Retry-After

            Exit codes:
              0   success
              1   unexpected failure
              3   authentication or permission error (401, 403, no key)
              4   rate limited (429)
              5   not found (404)
              6   conflict or invalid request (400, 409, 413, 425)
              7   server or transport failure (5xx, no answer)
              64  usage error (bad arguments, confirmation refused)
            """,
        version: "0.1.0",
        subcommands: [
            Me.self, APIKeysCommand.self, JobsCommand.self, MinersCommand.self, TenantsCommand.self, WebhooksCommand.self, UsageCommand.self,
        ])
}

/// Options every command takes.
struct GlobalOptions: ParsableArguments {
    @Option(help: "Coordinator URL (AITBC_URL).") var url: String?
    @Option(name: .customLong("api-key"), help: "API key (AITBC_API_KEY). Prefer the variable: flags show up in ps.")
    var apiKey: String?
    @Option(help: "Act inside this tenant (AITBC_TENANT_ID); operator keys only.") var tenant: String?
    @Flag(help: "Print the server's JSON instead of a table.") var json = false
    @Option(help: "Retries of a 429 or 503, honouring Retry-After.") var retries = 2

    /// A client from the flags and environment; a clear message when there is no key.
    func client() throws -> AITBCClient {
        let environment = ProcessInfo.processInfo.environment
        guard let key = apiKey ?? environment["AITBC_API_KEY"], !key.isEmpty else {
            Output.error(ErrorCode.missingAPIKey.rawValue, "No API key: set AITBC_API_KEY (or pass --api-key)")
            throw ExitCode(3)
        }
        var configuration = AITBCClient.Configuration()
        configuration.maximumRetries = max(0, retries)
        return try AITBCClient(apiKey: key, baseURL: url, tenantID: tenant, configuration: configuration)
    }
}

/// Runs a command body, turning SDK errors into `error: CODE: message` and an exit code.
func perform(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as any AITBCError {
        Output.error(error.code, error.message)
        throw ExitCode(Output.exitCode(for: error))
    } catch let error as ValidationFailure {
        Output.error("USAGE", error.message)
        throw ExitCode(64)
    }
}

/// A usage problem found after parsing (bad JSON argument, refused confirmation).
struct ValidationFailure: Error {
    var message: String
}

/// `aitbc me`
struct Me: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show who the key is: role, tenant, plan, limit, quota, credits, allow-list.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await perform {
            let me = try await global.client().me()
            if global.json { return Output.json(me) }
            Output.keyValues([
                ("key_id", me.keyID), ("name", me.name), ("role", me.role), ("tenant", me.tenantID), ("plan", me.plan),
                ("scopes", me.scopes.joined(separator: " ")),
                ("limit", "\(me.rateLimit.remaining)/\(me.rateLimit.limit) per minute left"),
                ("quota", me.quota.map { "\($0.remaining)/\($0.limit) per \($0.period) left" } ?? "-"),
                ("credits", me.credits.map(APIKeysCommand.describe) ?? "-"),
                ("allowed_ips", me.allowedIPs?.joined(separator: " ") ?? "(any address)"),
                ("expires_at", me.expiresAt.map(RFC3339.string(from:)) ?? "never"),
            ])
        }
    }
}

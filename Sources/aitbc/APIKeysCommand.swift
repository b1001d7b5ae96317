import AITBC
import ArgumentParser
import Foundation

/// `aitbc api-keys …`
struct APIKeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "api-keys", abstract: "Manage the tenant's API keys (master or operator key).",
        subcommands: [List.self, Create.self, Get.self, Update.self, TopUp.self, Revoke.self, Regenerate.self, Usage.self])

    static func row(_ key: APIKeyView) -> [String] {
        [key.keyID, key.name, key.role, key.hint, key.status, Output.date(key.createdAt), Output.date(key.lastUsedAt),
         Output.date(key.expiresAt)]
    }
    static let headers = ["key_id", "name", "role", "hint", "status", "created", "last_used", "expires"]

    static func show(_ key: APIKeyView) {
        Output.keyValues([
            ("key_id", key.keyID), ("name", key.name), ("role", key.role), ("tenant", key.tenantID), ("hint", key.hint),
            ("status", key.status), ("scopes", key.scopes?.joined(separator: " ") ?? "(all of the role's)"),
            ("created_at", Output.date(key.createdAt)), ("expires_at", Output.date(key.expiresAt)),
            ("last_used_at", Output.date(key.lastUsedAt)), ("last_used_from", key.lastUsedFrom ?? "-"),
            ("rate_limit", key.rateLimitPerMinute.map { "\($0)/min" } ?? "tenant's"),
            ("credits", key.credits.map(Self.describe) ?? "-"),
            ("allowed_ips", key.allowedIPs?.joined(separator: " ") ?? "(any address)"),
        ])
    }

    /// `12 left, refills to 1000 monthly (next 2026-12-01T00:00:00Z)`.
    static func describe(_ credits: CreditsView) -> String {
        guard let refill = credits.refill else { return "\(credits.remaining) left, no refill" }
        return "\(credits.remaining) left, refills to \(refill.amount) \(refill.interval) (next \(Output.date(credits.nextRefillAt)))"
    }

    /// The `credits` of a create or top-up from `--credits` and `--refill` (`daily`, `monthly`, or
    /// `none` to stop refilling); the refill's amount is the credits given.
    static func creditsRequest(_ credits: Int?, refill: String?) throws -> CreditsRequest? {
        guard let credits else {
            if refill != nil { throw ValidationFailure(message: "--refill needs --credits") }
            return nil
        }
        switch refill {
        case nil: return CreditsRequest(remaining: credits)
        case "none"?: return CreditsRequest(remaining: credits, refill: .some(nil))
        case let interval? where interval == "daily" || interval == "monthly":
            return CreditsRequest(remaining: credits, refill: .some(CreditRefillBody(amount: credits, interval: interval)))
        default: throw ValidationFailure(message: "--refill must be daily, monthly or none")
        }
    }

    static func showSecret(_ key: APIKeyView) {
        guard let secret = key.apiKey else { return }
        print("")
        print("api_key  \(secret)")
        Output.note("warning: this secret is shown once and cannot be retrieved again; store it now.")
    }

    /// Prints a just-issued key (create, regenerate): JSON with a warning on stderr, or the block and the secret.
    static func reportIssued(_ key: APIKeyView, json: Bool) {
        guard !json else {
            Output.json(key)
            return Output.note("warning: the api_key secret is shown once and cannot be retrieved again.")
        }
        show(key)
        if let until = key.previousSecretValidUntil { print("old secret valid until \(Output.date(until))") }
        showSecret(key)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys, newest first (never a secret).")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Stop after this many keys.") var limit: Int?

        func run() async throws {
            try await perform {
                var keys: [APIKeyView] = []
                for try await key in try global.client().apiKeys.list(pageSize: 100) {
                    keys.append(key)
                    if let limit, keys.count >= limit { break }
                }
                if global.json { return Output.json(keys) }
                Output.table(APIKeysCommand.headers, keys.map(APIKeysCommand.row))
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a key; its secret is printed once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "A name for people.") var name: String
        @Option(help: "client, miner, master or operator.") var role = "client"
        @Option(help: "Narrow to these scopes, e.g. jobs:read (repeatable).") var scope: [String] = []
        @Option(help: "Expiry, RFC 3339 (2027-01-01T00:00:00Z).") var expiresAt: String?
        @Option(help: "The key's own lower limit per minute.") var rateLimit: Int?
        @Option(help: "Credits the key may spend (one per request; a job costs the server's job cost).") var credits: Int?
        @Option(help: "Refill the credits to --credits every day or month (UTC): daily or monthly.") var refill: String?
        @Option(
            name: .customLong("allow-ip"),
            help: ArgumentHelp(
                "Allow use only from this CIDR or address, IPv4 or IPv6, e.g. 203.0.113.0/24 (repeatable). "
                    + "Without it, the key gets the calling key's own allow-list, if any.", valueName: "cidr"))
        var allowIP: [String] = []

        func run() async throws {
            try await perform {
                var expiry: Date?
                if let expiresAt {
                    guard let date = RFC3339.date(from: expiresAt) else {
                        throw ValidationFailure(message: "--expires-at must be RFC 3339, e.g. 2027-01-01T00:00:00Z")
                    }
                    expiry = date
                }
                let key = try await global.client().apiKeys.create(
                    name: name, role: role, scopes: scope.isEmpty ? nil : scope, expiresAt: expiry, rateLimitPerMinute: rateLimit,
                    credits: try APIKeysCommand.creditsRequest(credits, refill: refill),
                    allowedIPs: allowIP.isEmpty ? nil : allowIP)
                APIKeysCommand.reportIssued(key, json: global.json)
            }
        }
    }

    struct TopUp: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "top-up", abstract: "Set a key's credit balance (and optionally its refill); audited.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String
        @Option(help: "The new balance.") var credits: Int
        @Option(help: "Refill to --credits daily or monthly, or none to stop refilling; absent: unchanged.") var refill: String?

        func run() async throws {
            try await perform {
                let request = try APIKeysCommand.creditsRequest(credits, refill: refill)
                let key = try await global.client().apiKeys.update(keyID, credits: .some(request))
                global.json ? Output.json(key) : APIKeysCommand.show(key)
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one key.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String

        func run() async throws {
            try await perform {
                let key = try await global.client().apiKeys.get(keyID)
                global.json ? Output.json(key) : APIKeysCommand.show(key)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a key; it is refused from the next request. Asks for confirmation unless --yes.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String
        @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false

        func run() async throws {
            try await perform {
                let client = try global.client()
                if !yes {
                    guard Output.stdinIsTerminal else {
                        throw ValidationFailure(
                            message: "refusing to revoke \(keyID) without confirmation: standard input is not a terminal; pass --yes")
                    }
                    let key = try await client.apiKeys.get(keyID)
                    FileHandle.standardError.write(Data("Revoke \(key.keyID) (\(key.name), \(key.role))? This cannot be undone. [y/N] ".utf8))
                    guard let answer = readLine(), ["y", "yes"].contains(answer.lowercased()) else {
                        throw ValidationFailure(message: "not revoked")
                    }
                }
                let key = try await client.apiKeys.revoke(keyID)
                global.json ? Output.json(key) : print("revoked \(key.keyID) at \(Output.date(key.revokedAt))")
            }
        }
    }

    struct Regenerate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Issue a new secret for a key; the new one is printed once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String
        @Option(help: "Keep the old secret working this long: 90s, 15m, 1h, 7d (at most 7d).") var grace = "0"

        func run() async throws {
            try await perform {
                let seconds = try Output.seconds(grace)
                let key = try await global.client().apiKeys.regenerate(keyID, gracePeriod: .seconds(seconds))
                APIKeysCommand.reportIssued(key, json: global.json)
            }
        }
    }

    struct Usage: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Requests of a key over the last 24 hours.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String

        func run() async throws {
            try await perform {
                let usage = try await global.client().apiKeys.usage(keyID)
                if global.json { return Output.json(usage) }
                Output.keyValues([
                    ("key_id", usage.keyID), ("last_used_at", Output.date(usage.lastUsedAt)),
                    ("last_used_from", usage.lastUsedFrom ?? "-"), ("admitted_24h", String(usage.totals.admitted)),
                    ("rate_limited_24h", String(usage.totals.rateLimited)), ("errors_24h", String(usage.totals.errors)),
                ])
                print("")
                Output.table(
                    ["hour", "admitted", "rate_limited", "errors"],
                    usage.hours.map { [Output.date($0.start), String($0.admitted), String($0.rateLimited), String($0.errors)] })
            }
        }
    }
}

import AITBC
import ArgumentParser
import Foundation

extension APIKeysCommand {
    /// `aitbc api-keys update KEY_ID …`: change a key's name, limit or allow-list.
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a key's name, rate limit or IP allow-list; the change applies from its next request.",
            discussion: """
                Options left out leave the key as it is. --allow-ip replaces the whole allow-list; \
                --allow-any-ip removes it. Example: aitbc api-keys update key_… --allow-ip 203.0.113.0/24 --allow-ip 2001:db8::/32
                """)
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The key id (key_…).") var keyID: String
        @Option(help: "A new name.") var name: String?
        @Option(help: "A new limit per minute of its own.") var rateLimit: Int?
        @Flag(help: "Remove the key's own limit: the tenant's plan applies.") var clearRateLimit = false
        @Option(
            name: .customLong("allow-ip"),
            help: ArgumentHelp(
                "Allow use only from this CIDR or address (repeatable); replaces the key's allow-list.", valueName: "cidr"))
        var allowIP: [String] = []
        @Flag(name: .customLong("allow-any-ip"), help: "Remove the key's allow-list: it may be used from any address.")
        var allowAnyIP = false

        func validate() throws {
            if !allowIP.isEmpty, allowAnyIP { throw ValidationError("--allow-ip and --allow-any-ip exclude each other") }
            if rateLimit != nil, clearRateLimit { throw ValidationError("--rate-limit and --clear-rate-limit exclude each other") }
            if name == nil, rateLimit == nil, !clearRateLimit, allowIP.isEmpty, !allowAnyIP {
                throw ValidationError("nothing to change: pass --name, --rate-limit, --clear-rate-limit, --allow-ip or --allow-any-ip")
            }
        }

        func run() async throws {
            try await perform {
                let allowedIPs: [String]?? = allowAnyIP ? .some(nil) : (allowIP.isEmpty ? nil : .some(allowIP))
                let rateLimitChange: Int?? = clearRateLimit ? .some(nil) : rateLimit.map { .some($0) }
                let key = try await global.client().apiKeys.update(
                    keyID, name: name, rateLimitPerMinute: rateLimitChange, allowedIPs: allowedIPs)
                global.json ? Output.json(key) : APIKeysCommand.show(key)
            }
        }
    }
}

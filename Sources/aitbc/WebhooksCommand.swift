import AITBC
import ArgumentParser
import Foundation

/// `aitbc webhooks …`
struct WebhooksCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhooks", abstract: "Manage the tenant's webhook endpoints, or listen for webhooks locally.",
        subcommands: [List.self, Create.self, Delete.self, Listen.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's endpoints (never a secret).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            try await perform {
                let endpoints = try await global.client().webhooks.list()
                if global.json { return Output.json(endpoints) }
                Output.table(
                    ["webhook_id", "url", "events", "enabled", "created"],
                    endpoints.map {
                        [$0.webhookID, $0.url, $0.events.joined(separator: ","), $0.enabled ? "yes" : "no", Output.date($0.createdAt)]
                    })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an endpoint; prints its signing secret once.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The URL that receives the events (https in production).") var endpointURL: String
        @Option(help: "Comma-separated event types, e.g. api_key.revoked,job.completed.") var events: String
        @Option(help: "A description.") var description: String?

        func run() async throws {
            try await perform {
                let types = events.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                let endpoint = try await global.client().webhooks.create(url: endpointURL, events: types, description: description)
                if global.json {
                    Output.json(endpoint)
                    return Output.note("warning: the secret is shown once and cannot be retrieved again.")
                }
                Output.keyValues([
                    ("webhook_id", endpoint.webhookID), ("url", endpoint.url), ("events", endpoint.events.joined(separator: " ")),
                ])
                print("")
                print("secret  \(endpoint.secret ?? "-")")
                Output.note("warning: this secret is shown once and cannot be retrieved again; store it now.")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an endpoint and its deliveries.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "The webhook id (we_…).") var webhookID: String

        func run() async throws {
            try await perform {
                try await global.client().webhooks.delete(webhookID)
                if !global.json { print("deleted \(webhookID)") }
            }
        }
    }
}

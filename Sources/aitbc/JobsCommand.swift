import AITBC
import ArgumentParser
import Foundation

/// `aitbc jobs …`
struct JobsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "jobs", abstract: "Submit and follow compute jobs (client key).",
        subcommands: [Submit.self, List.self, Get.self, Cancel.self, Result.self, Receipt.self, Wait.self])

    static func show(_ job: JobView) {
        Output.keyValues([
            ("job_id", job.jobID), ("state", job.state), ("assigned_miner_id", job.assignedMinerID ?? "-"),
            ("requested_at", Output.date(job.requestedAt)), ("expires_at", Output.date(job.expiresAt)),
            ("error", job.error.map { "\(job.errorCode ?? "ERROR"): \($0)" } ?? "-"),
        ])
    }

    struct Submit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Submit a job.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The payload as JSON, e.g. '{\"type\": \"inference\", \"prompt\": \"hi\"}'.") var payload: String?
        @Option(help: "Read the payload from this file.") var payloadFile: String?
        @Option(help: "Constraints as JSON: gpu, cuda, min_vram_gb, models, region, max_price.") var constraints: String?
        @Option(help: "Seconds the job may wait in the queue (default 900).") var ttl: Int?
        @Option(help: "Makes retries safe: the same key and request return the same job.") var idempotencyKey: String?

        func run() async throws {
            try await perform {
                guard (payload == nil) != (payloadFile == nil) else {
                    throw ValidationFailure(message: "give exactly one of --payload and --payload-file")
                }
                let body = try Output.jsonArgument(payload ?? "@" + payloadFile!, name: "the payload")
                var parsedConstraints: [String: JSONValue]?
                if let constraints {
                    guard case .object(let object) = try Output.jsonArgument(constraints, name: "--constraints") else {
                        throw ValidationFailure(message: "--constraints must be a JSON object")
                    }
                    parsedConstraints = object
                }
                let job = try await global.client().jobs.create(
                    payload: body, constraints: parsedConstraints, ttlSeconds: ttl, idempotencyKey: idempotencyKey)
                global.json ? Output.json(job) : JobsCommand.show(job)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's jobs, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Only jobs in this state (QUEUED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED).") var state: String?
        @Option(help: "How many (1 … 100).") var limit = 20

        func run() async throws {
            try await perform {
                let page = try await global.client().jobs.list(state: state, limit: limit)
                if global.json { return Output.json(page) }
                Output.table(
                    ["job_id", "state", "miner", "requested", "expires"],
                    page.items.map { [$0.jobID, $0.state, $0.assignedMinerID ?? "-", Output.date($0.requestedAt), Output.date($0.expiresAt)] })
            }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one job.")
        @OptionGroup var global: GlobalOptions
        @Argument var jobID: String

        func run() async throws {
            try await perform {
                let job = try await global.client().jobs.get(jobID)
                global.json ? Output.json(job) : JobsCommand.show(job)
            }
        }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Cancel a QUEUED or RUNNING job.")
        @OptionGroup var global: GlobalOptions
        @Argument var jobID: String

        func run() async throws {
            try await perform {
                let job = try await global.client().jobs.cancel(jobID)
                global.json ? Output.json(job) : JobsCommand.show(job)
            }
        }
    }

    struct Result: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a completed job's result and receipt.")
        @OptionGroup var global: GlobalOptions
        @Argument var jobID: String

        func run() async throws {
            try await perform {
                let result = try await global.client().jobs.result(jobID)
                Output.json(result)
            }
        }
    }

    struct Wait: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Wait until a job finishes; shows progress on a terminal. Exit 0 only if it COMPLETED.")
        @OptionGroup var global: GlobalOptions
        @Argument var jobID: String
        @Option(help: "Give up after this long: 90s, 15m, 1h.") var timeout = "15m"
        @Option(help: "Seconds between checks.") var interval = 1.0

        func run() async throws {
            try await perform {
                let limit = try Output.seconds(timeout)
                let start = ContinuousClock.now
                let showProgress = Output.stderrIsTerminal
                let job = try await global.client().jobs.wait(
                    for: jobID, every: .milliseconds(Int(interval * 1000)), timeout: .seconds(limit)
                ) { job in
                    guard showProgress else { return }
                    let elapsed = (ContinuousClock.now - start).components.seconds
                    Output.note("[\(elapsed)s] \(job.jobID) \(job.state)\(job.assignedMinerID.map { " on \($0)" } ?? "")")
                }
                global.json ? Output.json(job) : JobsCommand.show(job)
                if job.state != "COMPLETED" { throw ExitCode(6) }
            }
        }
    }
}

/// `aitbc miners …`
struct MinersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "miners", abstract: "Act as a miner (miner key): register, heartbeat, poll.",
        subcommands: [Register.self, Heartbeat.self, Poll.self])

    static func show(_ miner: MinerView) {
        Output.keyValues([
            ("miner_id", miner.minerID), ("status", miner.status), ("concurrency", String(miner.concurrency)),
            ("running", String(miner.running)), ("region", miner.region ?? "-"), ("last_seen_at", Output.date(miner.lastSeenAt)),
        ])
    }

    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register a miner and its capabilities.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "The miner's id (default: the key's own).") var minerID: String?
        @Option(help: "Capabilities as JSON, e.g. '{\"gpu\": {\"model\": \"RTX 4090\", \"memory_gb\": 24}}'.") var capabilities = "{}"
        @Option(help: "Jobs it may run at once.") var concurrency = 1
        @Option(help: "Region, matched by the region constraint.") var region: String?

        func run() async throws {
            try await perform {
                guard case .object(let object) = try Output.jsonArgument(capabilities, name: "--capabilities") else {
                    throw ValidationFailure(message: "--capabilities must be a JSON object")
                }
                let miner = try await global.client().miners.register(
                    minerID: minerID, capabilities: object, concurrency: concurrency, region: region)
                global.json ? Output.json(miner) : MinersCommand.show(miner)
            }
        }
    }

    struct Heartbeat: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Tell the coordinator the miner is alive.")
        @OptionGroup var global: GlobalOptions
        @Option var minerID: String?
        @Option(help: "Jobs running now.") var inflight = 0

        func run() async throws {
            try await perform {
                let miner = try await global.client().miners.heartbeat(minerID: minerID, inflight: inflight)
                global.json ? Output.json(miner) : MinersCommand.show(miner)
            }
        }
    }

    struct Poll: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Wait for a job; prints it, or nothing (exit 0) if none came.")
        @OptionGroup var global: GlobalOptions
        @Option var minerID: String?
        @Option(help: "Seconds to wait.") var wait = 15.0

        func run() async throws {
            try await perform {
                guard let job = try await global.client().miners.poll(
                    minerID: minerID, maxWait: .milliseconds(Int(wait * 1000)))
                else {
                    if !global.json { Output.note("no job within \(wait) s") }
                    return
                }
                Output.json(job)
            }
        }
    }
}

/// `aitbc tenants …`
struct TenantsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenants", abstract: "Tenants and plans (operator key).",
        subcommands: [List.self, Create.self, SetPlan.self])

    static func show(_ tenant: TenantView) {
        Output.keyValues([
            ("tenant_id", tenant.tenantID), ("name", tenant.name), ("plan", tenant.plan),
            ("rate_limit", "\(tenant.rateLimitPerMinute)/min\(tenant.customRateLimitPerMinute == nil ? "" : " (custom)")"),
            ("quota_per_day", tenant.quotaPerDay.map(String.init) ?? "-"),
            ("quota_per_month", tenant.quotaPerMonth.map(String.init) ?? "-"),
            ("created_at", Output.date(tenant.createdAt)),
        ])
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants, newest first.")
        @OptionGroup var global: GlobalOptions
        @Option var limit = 100

        func run() async throws {
            try await perform {
                let page = try await global.client().tenants.list(limit: limit)
                if global.json { return Output.json(page) }
                Output.table(
                    ["tenant_id", "name", "plan", "limit_per_min", "created"],
                    page.items.map { [$0.tenantID, $0.name, $0.plan, String($0.rateLimitPerMinute), Output.date($0.createdAt)] })
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant; its first master key is printed once.")
        @OptionGroup var global: GlobalOptions
        @Option(help: "Chosen id (a-z, 0-9, _ and -); generated if absent.") var id: String?
        @Option var name: String
        @Option(help: "free, pro or enterprise.") var plan = "free"

        func run() async throws {
            try await perform {
                let tenant = try await global.client().tenants.create(id: id, name: name, plan: plan)
                if global.json {
                    Output.json(tenant)
                    return Output.note("warning: the master key secret is shown once and cannot be retrieved again.")
                }
                TenantsCommand.show(tenant)
                if let master = tenant.masterKey {
                    print("master_key_id  \(master.keyID)")
                    APIKeysCommand.showSecret(master)
                }
            }
        }
    }

    struct SetPlan: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "set-plan", abstract: "Change a tenant's plan or custom limit; effective on the next request.")
        @OptionGroup var global: GlobalOptions
        @Argument var tenantID: String
        @Argument(help: "free, pro or enterprise.") var plan: String?
        @Option(help: "A custom requests-per-minute limit; 0 clears it.") var rateLimit: Int?
        @Option(help: "A request quota per UTC day; 0 goes back to the plan's.") var quotaPerDay: Int?
        @Option(help: "A request quota per UTC month; 0 goes back to the plan's.") var quotaPerMonth: Int?

        func run() async throws {
            try await perform {
                guard plan != nil || rateLimit != nil || quotaPerDay != nil || quotaPerMonth != nil else {
                    throw ValidationFailure(message: "give a plan, --rate-limit, --quota-per-day or --quota-per-month")
                }
                func change(_ value: Int?) -> Int?? { value.map { $0 == 0 ? .some(nil) : .some($0) } ?? nil }
                let tenant = try await global.client().tenants.update(
                    tenantID, plan: plan, rateLimitPerMinute: change(rateLimit), quotaPerDay: change(quotaPerDay),
                    quotaPerMonth: change(quotaPerMonth))
                global.json ? Output.json(tenant) : TenantsCommand.show(tenant)
            }
        }
    }
}

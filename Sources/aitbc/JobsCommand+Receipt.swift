import AITBC
import ArgumentParser
import Foundation

extension JobsCommand {
    /// `aitbc jobs receipt JOB [--verify]`
    struct Receipt: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a job's signed receipt; with --verify, check its signature against the coordinator's keys "
                + "(exit 8 when it does not verify).")
        @OptionGroup var global: GlobalOptions
        @Argument var jobID: String
        @Flag(help: "Check the Ed25519 signature against GET /v1/receipts/keys.") var verify = false

        func run() async throws {
            try await perform {
                let client = try global.client()
                let receipt = try await client.jobs.receipt(jobID)
                Output.json(receipt)
                guard verify else { return }
                let keyID = receipt["signature"]?["key_id"]?.stringValue ?? "-"
                do {
                    try await client.receiptVerifier().check(receipt)
                    Output.note("signature: valid (Ed25519, key \(keyID))")
                } catch let failure as ReceiptVerifier.Failure {
                    Output.note("signature: INVALID: \(failure)")
                    throw ExitCode(8)
                }
            }
        }
    }
}

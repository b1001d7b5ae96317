import AITBC
import Foundation
import Testing

/// The README's SDK example, compiled and run against a live server so it cannot rot.
@Suite struct ReadmeExampleTests {
    @Test func readmeExampleRuns() async throws {
        try await LiveServer.run { url in
            let miner = try AITBCClient(apiKey: LiveServer.miner, baseURL: url)
            _ = try await miner.miners.register(minerID: "gpu-1", capabilities: ["gpu": ["model": "RTX 4090", "memory_gb": 24]])
            let worker = Task {
                // A miner on the other end: poll until one job comes, and answer it.
                while !Task.isCancelled {
                    guard let job = try await miner.miners.poll(minerID: "gpu-1", maxWait: .seconds(5)) else { continue }
                    try await miner.miners.submitResult(job.jobID, minerID: "gpu-1", result: ["text": "hello yourself"])
                    return
                }
            }
            defer { worker.cancel() }
            let output = try await readmeExample(apiKey: LiveServer.client, url: url)
            try await worker.value
            #expect(output == "hello yourself")
        }
    }

    // README: begin
    func readmeExample(apiKey: String, url: String) async throws -> String? {
        let client = try AITBCClient(apiKey: apiKey, baseURL: url)  // or AITBCClient(): AITBC_API_KEY, AITBC_URL
        do {
            let job = try await client.jobs.create(
                payload: ["type": "inference", "prompt": "hello", "model": "llama3.2"],
                constraints: ["min_vram_gb": 16], ttlSeconds: 900, idempotencyKey: "order-42")
            print("submitted \(job.jobID), \(job.state), expires \(job.expiresAt)")
            let done = try await client.jobs.wait(for: job.jobID, every: .milliseconds(200), timeout: .seconds(120))
            guard done.state == "COMPLETED" else { return nil }
            let result = try await client.jobs.result(job.jobID)
            if let limit = client.lastRateLimit { print("\(limit.remaining)/\(limit.limit) requests left this minute") }
            return result.result["text"]?.stringValue
        } catch let error as RateLimitError {
            print("slow down: retry in \(error.retryAfter) s")
            throw error
        } catch let error as AuthenticationError {
            print("check AITBC_API_KEY: \(error.code)")
            throw error
        }
    }
    // README: end
}

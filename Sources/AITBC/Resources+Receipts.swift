import AITBCWire
import Foundation

extension AITBCClient.Jobs {
    /// The job's latest signed receipt; a `NotFoundError` before the job completes or fails.
    public func receipt(_ jobID: String) async throws -> [String: JSONValue] {
        let answer = try await client.send(.GET, "/v1/jobs/\(Path.escape(jobID))/receipt")
        guard case .object(let receipt) = try AITBCClient.json(answer) else {
            throw TransportError(message: "The server's receipt is not a JSON object")
        }
        return receipt
    }

    /// Every signed receipt of the job, oldest first.
    public func receipts(_ jobID: String) async throws -> [[String: JSONValue]] {
        let answer = try await client.send(.GET, "/v1/jobs/\(Path.escape(jobID))/receipts")
        guard let items = try AITBCClient.json(answer)["items"]?.arrayValue else {
            throw TransportError(message: "The server's receipts are not {\"items\": [...]}")
        }
        return items.compactMap(\.objectValue)
    }
}

extension AITBCClient {
    /// The keys receipts verify with (the coordinator's current key and every earlier one).
    public func receiptKeys() async throws -> [ReceiptKeyView] {
        try await send(.GET, "/v1/receipts/keys").decode(ItemList<ReceiptKeyView>.self).items
    }

    /// A verifier trusting the keys the coordinator lists now.
    public func receiptVerifier() async throws -> ReceiptVerifier {
        ReceiptVerifier(keys: try await receiptKeys())
    }

    /// The answer's body read as JSON the way the wire reads it (numbers as the canonical form expects).
    static func json(_ answer: Answer) throws -> JSONValue {
        do {
            return try JSONValue(parsing: answer.body)
        } catch {
            throw TransportError(message: "The server's answer is not JSON", underlying: error)
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

extension Request {
    /// Decodes the JSON body as `T`; bad JSON or a bad field is 400 `INVALID_REQUEST` naming the field,
    /// a body over the context's limit is 413. An empty body decodes as `empty` when one is given.
    mutating func decodeJSON<T: Decodable>(
        _ type: T.Type, context: some RequestContext, empty: T? = nil
    ) async throws -> T {
        let buffer: ByteBuffer
        do {
            buffer = try await collectBody(upTo: context.maxUploadSize)
        } catch is NIOTooManyBytesError {
            throw CoordinatorError.payloadTooLarge()
        }
        if buffer.readableBytes == 0, let empty { return empty }
        do {
            return try JSONBody.decoder.decode(T.self, from: buffer.readableBytesView)
        } catch let error as DecodingError {
            throw JSONBody.describe(error)
        } catch {
            throw CoordinatorError.invalidRequest("The body is not valid JSON")
        }
    }
}

/// Decoding of request bodies and the errors it reports.
enum JSONBody {
    /// Linear in the size of the body, however it nests (a payload is read once, never re-tried).
    static let decoder = JSONValueDecoder()

    static func describe(_ error: DecodingError) -> CoordinatorError {
        func path(_ codingPath: [any CodingKey], _ key: (any CodingKey)? = nil) -> String {
            (codingPath + (key.map { [$0] } ?? [])).map { $0.intValue.map(String.init) ?? $0.stringValue }
                .joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let field = path(context.codingPath, key)
            return .invalidField(field, "\(field) is required")
        case .typeMismatch(let expected, let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return CoordinatorError.invalidRequest("The body must be a JSON object")
            }
            return .invalidField(field, "\(field) must be \(describe(expected))")
        case .valueNotFound(let expected, let context):
            let field = path(context.codingPath)
            return .invalidField(field, "\(field) must be \(describe(expected)), not null")
        case .dataCorrupted(let context):
            let field = path(context.codingPath)
            if field.isEmpty {
                return CoordinatorError.invalidRequest("The body is not valid JSON")
            }
            return .invalidField(field, "\(field) is invalid: \(context.debugDescription)")
        @unknown default:
            return CoordinatorError.invalidRequest("The body is invalid")
        }
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "a boolean"
        case is Date.Type: return "an RFC 3339 timestamp"
        case is [String].Type: return "an array of strings"
        case is [String: JSONValue].Type: return "an object"
        default: return "of the right type"
        }
    }
}

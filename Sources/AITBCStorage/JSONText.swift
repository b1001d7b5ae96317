import AITBCWire
import Foundation

/// JSON objects stored as text columns.
enum JSONText {
    static func encode(_ object: [String: JSONValue]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func decodeObject(_ text: String?) -> [String: JSONValue] {
        guard let text, case .object(let object)? = try? JSONValue(parsing: text) else { return [:] }
        return object
    }
}

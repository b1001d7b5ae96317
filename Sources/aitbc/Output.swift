import AITBC
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// How the CLI prints: aligned tables, key–value blocks, JSON, and errors on stderr.
enum Output {
    static func json(_ value: some Encodable) {
        let encoder = RFC3339.makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        if let data = try? encoder.encode(value) { print(String(decoding: data, as: UTF8.self)) }
    }

    static func table(_ headers: [String], _ rows: [[String]]) {
        guard !rows.isEmpty else { return print("(none)") }
        let widths = headers.indices.map { column in
            ([headers[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
        }
        func line(_ cells: [String]) -> String {
            zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        print(line(headers.map { $0.uppercased() }))
        for row in rows { print(line(row)) }
    }

    static func keyValues(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (key, value) in pairs { print(key.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + value) }
    }

    static func error(_ code: String, _ message: String) {
        FileHandle.standardError.write(Data("error: \(code): \(message)\n".utf8))
    }

    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    static func exitCode(for error: any AITBCError) -> Int32 {
        switch error {
        case is AuthenticationError, is PermissionError: return 3
        case is RateLimitError: return 4
        case is NotFoundError: return 5
        case is ConflictError, is ValidationError: return 6
        case is ServerError, is TransportError: return 7
        default: return 1
        }
    }

    static var stdinIsTerminal: Bool { isatty(STDIN_FILENO) == 1 }
    static var stderrIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    static func date(_ date: Date?) -> String { date.map(RFC3339.string(from:)) ?? "-" }

    /// Parses `90`, `90s`, `15m`, `1h`, `7d` into seconds.
    static func seconds(_ text: String) throws -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        var number = text
        var factor = 1
        if let last = text.last, let unit = units[last] {
            factor = unit
            number = String(text.dropLast())
        }
        guard let value = Int(number), value >= 0 else {
            throw ValidationFailure(message: "\(text) is not a duration such as 90, 90s, 15m, 1h or 7d")
        }
        return value * factor
    }

    /// Parses a JSON argument (or `@path` for a file).
    static func jsonArgument(_ text: String, name: String) throws -> JSONValue {
        var data = Data(text.utf8)
        if text.hasPrefix("@") {
            guard let contents = FileManager.default.contents(atPath: String(text.dropFirst())) else {
                throw ValidationFailure(message: "cannot read \(text.dropFirst()) for \(name)")
            }
            data = contents
        }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: data)
        } catch {
            throw ValidationFailure(message: "\(name) is not valid JSON")
        }
    }
}

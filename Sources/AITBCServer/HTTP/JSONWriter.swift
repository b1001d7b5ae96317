import AITBCWire
import Foundation
import NIOCore

/// Writes small JSON documents straight into a buffer, for hot routes where `JSONEncoder`
/// would cost more than the rest of the request (`/v1/me`). Output matches the wire encoder's:
/// keys in sorted order, RFC 3339 dates, `/` unescaped.
struct JSONWriter {
    var buffer: ByteBuffer

    init(capacity: Int = 512) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    mutating func raw(_ text: StaticString) {
        buffer.writeStaticString(text)
    }

    mutating func int(_ value: some BinaryInteger) {
        buffer.writeString(String(value))
    }

    mutating func date(_ value: Date?) {
        guard let value else { return raw("null") }
        string(RFC3339.string(from: value))
    }

    /// A JSON string literal with the escapes JSON requires.
    mutating func string(_ value: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var runStart = 0
            for index in 0..<bytes.count {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<index]))
                switch byte {
                case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
                case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
                case 0x0A: buffer.writeStaticString("\\n")
                case 0x0D: buffer.writeStaticString("\\r")
                case 0x09: buffer.writeStaticString("\\t")
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    buffer.writeStaticString("\\u00")
                    buffer.writeInteger(hex[Int(byte >> 4)])
                    buffer.writeInteger(hex[Int(byte & 0x0F)])
                }
                runStart = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[runStart..<bytes.count]))
        }
        buffer.writeInteger(UInt8(ascii: "\""))
    }
}

extension MeView {
    /// This view as JSON, byte for byte what the wire encoder would write.
    func jsonBuffer() -> ByteBuffer {
        var writer = JSONWriter()
        writer.raw(#"{"expires_at":"#)
        writer.date(expiresAt)
        writer.raw(#","key_id":"#)
        writer.string(keyID)
        writer.raw(#","name":"#)
        writer.string(name)
        writer.raw(#","plan":"#)
        writer.string(plan)
        writer.raw(#","rate_limit":{"limit":"#)
        writer.int(rateLimit.limit)
        writer.raw(#","remaining":"#)
        writer.int(rateLimit.remaining)
        writer.raw(#","reset":"#)
        writer.int(rateLimit.reset)
        writer.raw(#"},"role":"#)
        writer.string(role)
        writer.raw(#","scopes":["#)
        for (index, scope) in scopes.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(scope)
        }
        writer.raw(#"],"tenant_id":"#)
        writer.string(tenantID)
        writer.raw("}")
        return writer.buffer
    }
}

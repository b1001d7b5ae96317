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

    mutating func int(_ value: Int) {
        JSONWriter.writeDecimal(value, to: &buffer)
    }

    /// Writes `value` in decimal without building a `String`.
    static func writeDecimal(_ value: Int, to buffer: inout ByteBuffer) {
        if value < 0 { buffer.writeInteger(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for 24 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { raw in
            repeat {
                raw[23 - count] = UInt8(truncatingIfNeeded: 48 + magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: raw[(24 - count)...]))
        }
    }

    mutating func date(_ value: Date?) {
        guard let value else { return raw("null") }
        let written: Void? = RFC3339.withFixedWidthText(of: value) { text in
            buffer.writeInteger(UInt8(ascii: "\""))
            buffer.writeBytes(text)
            buffer.writeInteger(UInt8(ascii: "\""))
        }
        if written == nil { string(RFC3339.string(from: value)) }
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
    /// The parts of the JSON that do not change from request to request, around the numbers: the
    /// opening (before `credits`), the middle (before `quota`) and the tail (after the rate limit).
    struct StaticParts: Sendable {
        var opening: ByteBuffer
        var middle: ByteBuffer
        var tail: ByteBuffer
    }

    /// Everything but the numbers (rate limit, quota, credits), written once per key.
    func staticParts() -> StaticParts {
        var opening = JSONWriter(capacity: 64)
        opening.raw(#"{"allowed_ips":"#)
        if let allowedIPs {
            opening.value(.array(allowedIPs.map { .string($0) }))
        } else {
            opening.raw("null")
        }
        var middle = JSONWriter(capacity: 192)
        middle.raw(#","expires_at":"#)
        middle.date(expiresAt)
        middle.raw(#","key_id":"#)
        middle.string(keyID)
        middle.raw(#","name":"#)
        middle.string(name)
        middle.raw(#","plan":"#)
        middle.string(plan)
        var tail = JSONWriter(capacity: 256)
        tail.raw(#"},"role":"#)
        tail.string(role)
        tail.raw(#","scopes":["#)
        for (index, scope) in scopes.enumerated() {
            if index > 0 { tail.raw(",") }
            tail.string(scope)
        }
        tail.raw(#"],"tenant_id":"#)
        tail.string(tenantID)
        tail.raw("}")
        return StaticParts(opening: opening.buffer, middle: middle.buffer, tail: tail.buffer)
    }

    /// This view as JSON from its static parts and its numbers: the rate limit, and the quota and
    /// credits when they apply (they change with every request).
    static func jsonBuffer(
        _ parts: StaticParts, rateLimit: RateLimitStateView, quota: QuotaStateView? = nil, credits: CreditsView? = nil
    ) -> ByteBuffer {
        var writer = JSONWriter(
            capacity: parts.opening.readableBytes + parts.middle.readableBytes + parts.tail.readableBytes + 64
                + (quota == nil ? 0 : 96) + (credits == nil ? 0 : 128))
        writer.buffer.writeImmutableBuffer(parts.opening)
        if let credits {
            writer.raw(#","credits":{"next_refill_at":"#)
            writer.date(credits.nextRefillAt)
            writer.raw(#","refill":"#)
            if let refill = credits.refill {
                writer.raw(#"{"amount":"#)
                writer.int(refill.amount)
                writer.raw(#","interval":"#)
                writer.string(refill.interval)
                writer.raw("}")
            } else {
                writer.raw("null")
            }
            writer.raw(#","remaining":"#)
            writer.int(credits.remaining)
            writer.raw("}")
        }
        writer.buffer.writeImmutableBuffer(parts.middle)
        if let quota {
            writer.raw(#","quota":{"limit":"#)
            writer.int(quota.limit)
            writer.raw(#","period":"#)
            writer.string(quota.period)
            writer.raw(#","remaining":"#)
            writer.int(quota.remaining)
            writer.raw(#","reset":"#)
            writer.int(quota.reset)
            writer.raw("}")
        }
        writer.raw(#","rate_limit":{"limit":"#)
        writer.int(rateLimit.limit)
        writer.raw(#","remaining":"#)
        writer.int(rateLimit.remaining)
        writer.raw(#","reset":"#)
        writer.int(rateLimit.reset)
        writer.buffer.writeImmutableBuffer(parts.tail)
        return writer.buffer
    }

    /// This view as JSON, byte for byte what the wire encoder would write.
    func jsonBuffer() -> ByteBuffer {
        Self.jsonBuffer(staticParts(), rateLimit: rateLimit, quota: quota, credits: credits)
    }
}

extension JSONWriter {
    /// Any JSON value, objects with sorted keys (as the wire encoder writes them), numbers as Python
    /// writes them (``JSONValue/numberText``).
    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: raw("null")
        case .bool(let flag): flag ? raw("true") : raw("false")
        case .int(let number): int(number)
        case .largeInteger(let text): buffer.writeString(text)
        case .double(let number):
            if number.isFinite { buffer.writeString(CanonicalJSON.pythonRepr(number)) } else { raw("null") }
        case .string(let text): string(text)
        case .array(let items):
            raw("[")
            for (index, item) in items.enumerated() {
                if index > 0 { raw(",") }
                self.value(item)
            }
            raw("]")
        case .object(let members): object(members)
        }
    }

    mutating func object(_ members: [String: JSONValue]) {
        raw("{")
        for (index, key) in members.keys.sorted().enumerated() {
            if index > 0 { raw(",") }
            string(key)
            raw(":")
            value(members[key]!)
        }
        raw("}")
    }
}

extension ErrorBody {
    /// The error as JSON without `JSONEncoder`: errors are what a flood of bad requests gets back.
    func jsonBuffer() -> ByteBuffer {
        var writer = JSONWriter(capacity: 128 + error.message.utf8.count)
        writer.raw(#"{"error":{"code":"#)
        writer.string(error.code)
        writer.raw(#","details":"#)
        writer.object(error.details)
        writer.raw(#","message":"#)
        writer.string(error.message)
        writer.raw("}}")
        return writer.buffer
    }
}

import Crypto
import Foundation

/// The `AITBC-Signature` header: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, with
/// one `v1` per secret that signs (two during a rotation's grace period).
public enum WebhookSignature {
    public static func header(body: String, secrets: [String], timestamp: Int64) -> String {
        (["t=\(timestamp)"] + secrets.map { "v1=" + hex(body: body, secret: $0, timestamp: timestamp) })
            .joined(separator: ",")
    }

    /// The hex HMAC of `"<timestamp>.<body>"` under `secret`.
    public static func hex(body: String, secret: String, timestamp: Int64) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("\(timestamp).\(body)".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Hex.lowercase(mac)
    }
}

import AITBCDomain
import Foundation
import HTTPTypes

/// The IETF rate-limit fields of a response: `RateLimit-Policy` (each policy's quota `q` per window
/// `w` seconds) and `RateLimit` (each policy's remaining quota `r` and seconds `t` until it resets),
/// one list member per policy, named by a quoted identifier:
///
///     RateLimit-Policy: "minute";q=600;w=60
///     RateLimit: "minute";r=599;t=1
///
/// Syntax and meaning as in draft-ietf-httpapi-ratelimit-headers-12, "RateLimit header fields for
/// HTTP" (R. Polli, A. Martinez, D. Miller, 20 November 2026,
/// https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/12/): both fields are
/// Structured Field Lists (RFC 9651) of Strings with Integer parameters.
///
/// Written on every authenticated response, so it is built by appending to two strings reserved
/// once, without Foundation formatting. A further policy (a daily or monthly quota) is one more
/// ``add(_:quota:windowSeconds:remaining:resetSeconds:)`` where the list is made (``init(_:)``).
struct RateLimitPolicies {
    static let policyName = HTTPField.Name("RateLimit-Policy")!
    static let stateName = HTTPField.Name("RateLimit")!

    /// The value of `RateLimit-Policy`.
    private(set) var policy: String
    /// The value of `RateLimit`.
    private(set) var state: String

    init() {
        policy = ""
        state = ""
        policy.reserveCapacity(48)
        state.reserveCapacity(48)
    }

    /// Adds a policy named `name` (letters, digits and `-` only: it is written between quotes as it
    /// is) of `quota` units per `windowSeconds`, of which `remaining` are left for `resetSeconds`.
    mutating func add(_ name: StaticString, quota: Int, windowSeconds: Int, remaining: Int, resetSeconds: Int64) {
        let separator = policy.isEmpty ? "\"" : ", \""
        policy += separator
        policy += name.description
        policy += "\";q="
        policy += String(max(0, quota))
        policy += ";w="
        policy += String(max(1, windowSeconds))
        state += separator
        state += name.description
        state += "\";r="
        state += String(max(0, remaining))
        state += ";t="
        state += String(max(0, resetSeconds))
    }

    /// The policies behind a request: the per-minute budget it was charged to, and the tightest
    /// daily or monthly quota it was counted against, when one applies (`"day"` or `"month"`, its
    /// window the period's length in seconds).
    init(_ decision: RateDecision?, quota: QuotaState? = nil) {
        self.init()
        if let decision {
            add(
                "minute", quota: decision.limit, windowSeconds: 60, remaining: decision.remaining,
                resetSeconds: decision.resetUnixSeconds - decision.decidedAtUnixSeconds)
        }
        if let quota {
            let lastSecond = Date(timeIntervalSince1970: TimeInterval(quota.resetUnixSeconds - 1))
            let window = Int(quota.resetUnixSeconds - quota.period.start(containing: lastSecond))
            let name: StaticString = quota.period == .day ? "day" : "month"
            add(
                name, quota: quota.limit, windowSeconds: window, remaining: quota.remaining,
                resetSeconds: quota.resetUnixSeconds - quota.observedAtUnixSeconds)
        }
    }
}

extension HTTPFields {
    /// `RateLimit-Policy` and `RateLimit` for `policies`.
    mutating func append(_ policies: RateLimitPolicies) {
        append(HTTPField(name: RateLimitPolicies.policyName, value: policies.policy))
        append(HTTPField(name: RateLimitPolicies.stateName, value: policies.state))
    }
}

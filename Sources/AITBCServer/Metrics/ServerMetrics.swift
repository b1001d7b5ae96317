import AITBCDomain
import Foundation
import Prometheus
import Synchronization

/// What `/metrics` reports, in Prometheus text format.
///
/// The request path only bumps counters in a dictionary under a lock; values are copied into the
/// swift-prometheus registry when scraped. Labels are route patterns, methods, statuses, error codes
/// and job states: never a key, a secret, an id or any text a tenant chose.
final class ServerMetrics: Sendable {
    struct RequestKey: Hashable, Sendable {
        var method: String
        var route: String
        var status: Int
    }

    private struct Pending {
        var requests: [RequestKey: Int] = [:]
        var authOutcomes: [String: Int] = [:]
        var rateLimited = 0
    }

    private let pending = Mutex(Pending())
    private let registry = PrometheusCollectorRegistry()
    private let scrape = Mutex(())

    func countRequest(method: String, route: String, status: Int) {
        let key = RequestKey(method: method, route: route, status: status)
        pending.withLock { $0.requests[key, default: 0] += 1 }
    }

    /// `ok` or the error code of an authentication attempt.
    func countAuthentication(_ outcome: String) {
        pending.withLock { $0.authOutcomes[outcome, default: 0] += 1 }
    }

    func countRateLimited() {
        pending.withLock { $0.rateLimited += 1 }
    }

    /// The exposition text, with gauges read from the coordinator now.
    func render(coordinator: Coordinator) async -> String {
        let totals = await coordinator.jobs.queue.totals()
        let stored = (try? await coordinator.store.jobCountsByState()) ?? [:]
        let cache = coordinator.authenticator.cacheStatistics
        let storage = coordinator.store.statistics
        let taken = pending.withLock { state -> Pending in
            let copy = state
            state = Pending()
            return copy
        }
        return scrape.withLock { _ in
            for (key, count) in taken.requests {
                registry.makeCounter(
                    name: "aitbc_http_requests_total",
                    labels: [("method", key.method), ("route", key.route), ("status", String(key.status))],
                    help: "HTTP requests by method, route pattern and status"
                ).increment(by: Int64(count))
            }
            for (outcome, count) in taken.authOutcomes {
                registry.makeCounter(
                    name: "aitbc_authentications_total", labels: [("outcome", outcome)],
                    help: "Authentication attempts by outcome (ok or the error code)"
                ).increment(by: Int64(count))
            }
            registry.makeCounter(name: "aitbc_rate_limited_total", help: "Requests refused by a rate limit")
                .increment(by: Int64(taken.rateLimited))
            registry.makeGauge(name: "aitbc_key_cache_hits", help: "Authentications answered from the key cache")
                .set(to: Double(cache.hits))
            registry.makeGauge(name: "aitbc_key_cache_lookups", help: "Authentications that asked storage")
                .set(to: Double(cache.lookups))
            let ratio = cache.hits + cache.lookups == 0 ? 1 : Double(cache.hits) / Double(cache.hits + cache.lookups)
            registry.makeGauge(name: "aitbc_key_cache_hit_ratio", help: "Share of authentications answered from memory")
                .set(to: ratio)
            registry.makeGauge(name: "aitbc_storage_operations", help: "Storage operations since start").set(to: Double(storage.operations))
            registry.makeGauge(name: "aitbc_storage_failures", help: "Failed storage operations since start").set(to: Double(storage.failures))
            registry.makeGauge(name: "aitbc_storage_seconds", help: "Time spent in storage operations since start")
                .set(to: storage.totalSeconds)
            registry.makeGauge(name: "aitbc_storage_average_seconds", help: "Mean storage operation latency since start")
                .set(to: storage.operations == 0 ? 0 : storage.totalSeconds / Double(storage.operations))
            for state in JobState.allCases {
                registry.makeGauge(name: "aitbc_jobs", labels: [("state", state.rawValue)], help: "Jobs by state")
                    .set(to: Double(stored[state] ?? 0))
            }
            registry.makeGauge(name: "aitbc_queue_depth", help: "Jobs waiting in the in-memory queue").set(to: Double(totals.queued))
            registry.makeGauge(name: "aitbc_miners_online", help: "Miners ONLINE").set(to: Double(totals.minersOnline))
            return registry.emitToString()
        }
    }
}

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
    // Counted on every authenticated request: an atomic, not the lock.
    private let authenticated = Atomic<Int>(0)
    private let registry = PrometheusCollectorRegistry()
    private let scrape = Mutex(())

    func countRequest(method: String, route: String, status: Int) {
        let key = RequestKey(method: method, route: route, status: status)
        pending.withLock { $0.requests[key, default: 0] += 1 }
    }

    /// A successful authentication.
    func countAuthenticated() {
        authenticated.add(1, ordering: .relaxed)
    }

    /// A failed authentication, by error code.
    func countAuthenticationFailure(_ code: String) {
        pending.withLock { $0.authOutcomes[code, default: 0] += 1 }
    }

    func countRateLimited() {
        pending.withLock { $0.rateLimited += 1 }
    }

    private func counter(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Counter {
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: name, unitName: "total", helpText: help), labels: labels)
    }

    private func gauge(_ name: String, _ help: String, _ labels: [(String, String)] = []) -> Gauge {
        registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help), labels: labels)
    }

    /// The exposition text, with gauges read from the coordinator now.
    func render(coordinator: Coordinator) async -> String {
        let totals = await coordinator.jobs.queueTotals()
        let waitingPolls = await coordinator.miners.waitingPolls()
        let stored = (try? await coordinator.store.jobCountsByState()) ?? [:]
        let cache = coordinator.authenticator.cacheStatistics
        let storage = coordinator.store.statistics
        var taken = pending.withLock { state -> Pending in
            let copy = state
            state = Pending()
            return copy
        }
        taken.authOutcomes["ok", default: 0] += authenticated.exchange(0, ordering: .relaxed)
        return scrape.withLock { _ in
            for (key, count) in taken.requests {
                let labels = [("method", key.method), ("route", key.route), ("status", String(key.status))]
                counter("aitbc_http_requests", "HTTP requests by method, route pattern and status", labels)
                    .increment(by: Int64(count))
            }
            for (outcome, count) in taken.authOutcomes {
                counter("aitbc_authentications", "Authentication attempts by outcome (ok or the error code)", [("outcome", outcome)])
                    .increment(by: Int64(count))
            }
            counter("aitbc_rate_limited", "Requests refused by a rate limit")
                .increment(by: Int64(taken.rateLimited))
            gauge("aitbc_key_cache_hits", "Authentications answered from the key cache")
                .set(to: Double(cache.hits))
            gauge("aitbc_key_cache_lookups", "Authentications that asked storage")
                .set(to: Double(cache.lookups))
            let ratio = cache.hits + cache.lookups == 0 ? 1 : Double(cache.hits) / Double(cache.hits + cache.lookups)
            gauge("aitbc_key_cache_hit_ratio", "Share of authentications answered from memory")
                .set(to: ratio)
            gauge("aitbc_storage_operations", "Storage operations since start").set(to: Double(storage.operations))
            gauge("aitbc_storage_failures", "Failed storage operations since start").set(to: Double(storage.failures))
            gauge("aitbc_storage_commits", "Write transactions committed since start (SQLite: concurrent writes share one)")
                .set(to: Double(storage.commits))
            gauge("aitbc_storage_seconds", "Time spent in storage operations since start")
                .set(to: storage.totalSeconds)
            gauge("aitbc_storage_average_seconds", "Mean storage operation latency since start")
                .set(to: storage.operations == 0 ? 0 : storage.totalSeconds / Double(storage.operations))
            for state in JobState.allCases {
                gauge("aitbc_jobs", "Jobs by state", [("state", state.rawValue)])
                    .set(to: Double(stored[state] ?? 0))
            }
            gauge("aitbc_queue_depth", "Jobs waiting in the in-memory queue").set(to: Double(totals.queued))
            gauge("aitbc_miners_online", "Miners ONLINE").set(to: Double(totals.minersOnline))
            gauge("aitbc_open_connections", "Connections open now (see AITBC_MAX_CONNECTIONS)")
                .set(to: Double(coordinator.connections.current))
            gauge("aitbc_long_polls_waiting", "Long-polls holding a slot now").set(to: Double(coordinator.longPolls.total))
            gauge("aitbc_long_polls_queued", "Long-polls waiting in the queue for a job now, each watching its connection")
                .set(to: Double(waitingPolls))
            var bytes: [UInt8] = []
            registry.emit(into: &bytes)
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}

import AITBCDomain
import AsyncHTTPClient
import Foundation
import Synchronization

/// HTTP clients that each connect a host name to one address that was checked, never resolving the
/// name again (AsyncHTTPClient's `dnsOverride`): TLS still sends the name (SNI) and checks the
/// certificate against it. A client is kept while it is used, and shut down once it has been idle
/// for ``idleLimit`` (or when there are more than ``capacity`` and it is idle), so connections to a
/// busy endpoint are reused while a name's new address gets a client of its own.
final class PinnedHTTPClients: Sendable {
    struct Entry {
        var client: HTTPClient
        var inFlight: Int
        var lastUsed: ContinuousClock.Instant
    }

    /// A (host, address) pair a client connects.
    struct Target: Hashable, Sendable {
        var host: String
        var address: String
    }

    private let entries = Mutex([Target: Entry]())
    let idleLimit: Duration
    let capacity: Int
    let connectTimeout: Duration

    init(idleLimit: Duration = .seconds(60), capacity: Int = 32, connectTimeout: Duration = .seconds(10)) {
        self.idleLimit = idleLimit
        self.capacity = capacity
        self.connectTimeout = connectTimeout
    }

    /// The targets that have a client now (tests).
    var targets: Set<Target> { entries.withLock { Set($0.keys) } }

    /// Runs `body` with the client that connects `host` to `address`, made if there is none.
    func withClient<T>(host: String, address: IPAddress, _ body: (HTTPClient) async throws -> T) async rethrows -> T {
        let target = Target(host: host, address: address.description)
        let now = ContinuousClock.now
        let (client, retired) = entries.withLock { entries -> (HTTPClient, [HTTPClient]) in
            let client = entries[target]?.client ?? makeClient(target)
            entries[target] = Entry(client: client, inFlight: (entries[target]?.inFlight ?? 0) + 1, lastUsed: now)
            return (client, retire(&entries, now: now))
        }
        for old in retired { try? await old.shutdown() }
        defer {
            entries.withLock { entries in
                entries[target]?.inFlight -= 1
                entries[target]?.lastUsed = .now
            }
        }
        return try await body(client)
    }

    /// Shuts every client down (the deliverer has stopped).
    func shutdown() async {
        let all = entries.withLock { entries in
            defer { entries.removeAll() }
            return entries.values.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }

    /// Removes idle clients past the idle limit, and the longest idle beyond the capacity; returns them.
    private func retire(_ entries: inout [Target: Entry], now: ContinuousClock.Instant) -> [HTTPClient] {
        var retired: [HTTPClient] = []
        for (target, entry) in entries where entry.inFlight == 0 && now - entry.lastUsed > idleLimit {
            retired.append(entry.client)
            entries[target] = nil
        }
        let idle = entries.filter { $0.value.inFlight == 0 }.sorted { $0.value.lastUsed < $1.value.lastUsed }
        for (target, entry) in idle.prefix(max(0, entries.count - capacity)) {
            retired.append(entry.client)
            entries[target] = nil
        }
        return retired
    }

    /// A client that follows no redirect, decompresses nothing, and connects `target.host` to `target.address`.
    private func makeClient(_ target: Target) -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow, timeout: .init(connect: .init(connectTimeout), read: .init(connectTimeout)),
            decompression: .disabled)
        configuration.dnsOverride = [target.host: target.address]
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

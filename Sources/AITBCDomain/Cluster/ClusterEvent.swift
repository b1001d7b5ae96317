import Foundation

/// A change one coordinator instance tells the others about, so their in-memory state (key cache,
/// job queue, miners) follows the shared store. Storage stays the truth: an event only says what to
/// look at again, and a missed event is caught by the periodic reconciliation or the cache lifetime.
public enum ClusterEvent: Sendable, Equatable {
    /// A key was revoked or regenerated: forget what is cached under these digests.
    case keyChanged(digests: [APIKeyDigest])
    /// A tenant's plan or limit changed.
    case tenantChanged(id: String)
    /// A job entered the queue (submitted or requeued).
    case jobQueued(id: String)
    /// A job was handed to a miner.
    case jobAssigned(id: String, miner: MinerKey)
    /// A job left the queue or the running set (completed, failed, canceled, expired).
    case jobFinished(id: String, tenantID: String)
    /// A miner registered or changed status.
    case minerChanged(MinerKey)
    /// A tenant's webhook endpoints changed: reload which tenants' changes write events.
    case webhooksChanged
    /// Not sent by instances: the bus reports that events may have been missed (it reconnected).
    case resync

    /// The text sent over the bus (PostgreSQL `NOTIFY` payloads are at most 8000 bytes; these are far less).
    public func encoded(origin: String) -> String {
        var wire = Wire(o: origin, k: "")
        switch self {
        case .keyChanged(let digests):
            wire.k = "key"
            wire.d = digests.map(\.hex)
        case .tenantChanged(let id):
            wire.k = "tenant"
            wire.t = id
        case .jobQueued(let id):
            wire.k = "queued"
            wire.j = id
        case .jobAssigned(let id, let miner):
            wire.k = "assigned"
            wire.j = id
            wire.t = miner.tenantID
            wire.m = miner.minerID
        case .jobFinished(let id, let tenantID):
            wire.k = "finished"
            wire.j = id
            wire.t = tenantID
        case .minerChanged(let miner):
            wire.k = "miner"
            wire.t = miner.tenantID
            wire.m = miner.minerID
        case .webhooksChanged:
            wire.k = "webhooks"
        case .resync:
            wire.k = "resync"
        }
        return String(decoding: (try? JSONEncoder().encode(wire)) ?? Data(), as: UTF8.self)
    }

    /// Reads ``encoded(origin:)``; nil for anything else.
    public static func decode(_ text: String) -> (origin: String, event: ClusterEvent)? {
        guard let wire = try? JSONDecoder().decode(Wire.self, from: Data(text.utf8)) else { return nil }
        let event: ClusterEvent
        switch wire.k {
        case "key":
            event = .keyChanged(digests: (wire.d ?? []).compactMap(APIKeyDigest.init(hex:)))
        case "tenant":
            guard let id = wire.t else { return nil }
            event = .tenantChanged(id: id)
        case "queued":
            guard let id = wire.j else { return nil }
            event = .jobQueued(id: id)
        case "assigned":
            guard let id = wire.j, let tenant = wire.t, let miner = wire.m else { return nil }
            event = .jobAssigned(id: id, miner: MinerKey(tenantID: tenant, minerID: miner))
        case "finished":
            guard let id = wire.j, let tenant = wire.t else { return nil }
            event = .jobFinished(id: id, tenantID: tenant)
        case "miner":
            guard let tenant = wire.t, let miner = wire.m else { return nil }
            event = .minerChanged(MinerKey(tenantID: tenant, minerID: miner))
        case "webhooks":
            event = .webhooksChanged
        case "resync":
            event = .resync
        default:
            return nil
        }
        return (wire.o, event)
    }

    private struct Wire: Codable {
        var o: String
        var k: String
        var j: String?
        var t: String?
        var m: String?
        var d: [String]?
    }
}

import AITBCWire
import Foundation

/// A miner's identity within the deployment: ids are chosen by miners and unique per tenant.
public struct MinerKey: Hashable, Sendable {
    public var tenantID: String
    public var minerID: String

    public init(tenantID: String, minerID: String) {
        self.tenantID = tenantID
        self.minerID = minerID
    }
}

/// A GPU worker of a tenant, as it registered and last reported.
public struct Miner: Sendable, Equatable {
    /// `ONLINE` (gets jobs), `DRAINING` (finishes what it has, gets nothing new), `OFFLINE` (silent too long).
    public enum Status: String, Sendable {
        case online = "ONLINE"
        case draining = "DRAINING"
        case offline = "OFFLINE"
    }

    public var id: String
    public var tenantID: String
    /// The key that registered it.
    public var keyID: String
    public var capabilities: [String: JSONValue]
    public var concurrency: Int
    public var region: String?
    public var status: Status
    /// What the miner last said it runs.
    public var reportedInflight: Int
    public var metadata: [String: JSONValue]
    public var registeredAt: Date
    public var lastSeenAt: Date

    public init(
        id: String, tenantID: String, keyID: String, capabilities: [String: JSONValue], concurrency: Int,
        region: String?, status: Status, reportedInflight: Int = 0, metadata: [String: JSONValue] = [:],
        registeredAt: Date, lastSeenAt: Date
    ) {
        self.id = id
        self.tenantID = tenantID
        self.keyID = keyID
        self.capabilities = capabilities
        self.concurrency = concurrency
        self.region = region
        self.status = status
        self.reportedInflight = reportedInflight
        self.metadata = metadata
        self.registeredAt = registeredAt
        self.lastSeenAt = lastSeenAt
    }

    /// What matching reads from the free-form capabilities.
    public var profile: CapabilityProfile { CapabilityProfile(capabilities: capabilities, region: region) }
}

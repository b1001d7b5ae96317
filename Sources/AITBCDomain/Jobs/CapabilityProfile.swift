import AITBCWire
import Foundation

/// The facts matching needs, read from a miner's free-form capabilities wherever AITBC miners put them:
/// `{"gpu": {"model", "memory_gb", "cuda_version"}}`, a `gpus` list, or top-level fields.
public struct CapabilityProfile: Sendable, Hashable {
    public var gpuModels: [String]
    public var vramGB: Double?
    public var cudaVersion: String?
    public var models: Set<String>
    public var region: String?
    public var price: Double?

    public init(capabilities: [String: JSONValue], region: String?) {
        var gpus: [[String: JSONValue]] = []
        if let gpu = capabilities["gpu"] {
            switch gpu {
            case .object(let object): gpus.append(object)
            case .string(let model): gpus.append(["model": .string(model)])
            default: break
            }
        }
        if case .array(let list)? = capabilities["gpus"] {
            gpus += list.compactMap(\.objectValue)
        }
        gpuModels = gpus.compactMap { ($0["model"] ?? $0["name"])?.stringValue }
        vramGB = (gpus.compactMap { ($0["memory_gb"] ?? $0["vram_gb"])?.doubleValue }.max())
            ?? (capabilities["memory_gb"] ?? capabilities["vram_gb"])?.doubleValue
        cudaVersion = (gpus.compactMap { ($0["cuda_version"] ?? $0["cuda"])?.stringValue }.first)
            ?? (capabilities["cuda_version"] ?? capabilities["cuda"])?.stringValue
        var models = Set<String>()
        for source in [capabilities["models"], capabilities["compute"]?["models"]] {
            if case .array(let list)? = source { models.formUnion(list.compactMap(\.stringValue)) }
        }
        self.models = models
        self.region = region ?? capabilities["region"]?.stringValue
        self.price = (capabilities["price"] ?? capabilities["pricing"]?["price"])?.doubleValue
    }

    /// Whether a job with `constraints` may run here. No constraints match any miner; a constraint
    /// the miner says nothing about (e.g. `max_price` for a miner without a price) does not exclude it,
    /// except those that need a fact to be met (`gpu`, `cuda`, `min_vram_gb`, `models`, `region`).
    public func satisfies(_ constraints: [String: JSONValue]?) -> Bool {
        satisfies(JobRequirement(constraints: constraints))
    }

    /// Whether a job asking `requirement` may run here (the rules above, on the parsed requirement).
    public func satisfies(_ requirement: JobRequirement) -> Bool {
        if let gpu = requirement.gpu {
            guard gpuModels.contains(where: { $0.localizedCaseInsensitiveContains(gpu) }) else { return false }
        }
        if let cuda = requirement.cuda {
            guard let have = cudaVersion, Self.compareVersions(have, cuda) >= 0 else { return false }
        }
        if let minimum = requirement.minimumVRAMGB {
            guard let vramGB, vramGB >= minimum else { return false }
        }
        if !requirement.models.isEmpty {
            guard requirement.models.allSatisfy(models.contains) else { return false }
        }
        if let wanted = requirement.region {
            guard let region, region.caseInsensitiveCompare(wanted) == .orderedSame else { return false }
        }
        if let maximum = requirement.maximumPrice, let price {
            guard price <= maximum else { return false }
        }
        return true
    }

    static func versionText(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): return text
        case .int(let number): return String(number)
        case .largeInteger(let text): return text
        case .double(let number): return String(number)
        default: return nil
        }
    }

    /// Compares dotted versions numerically: `12.4` > `12.10` is false.
    static func compareVersions(_ lhs: String, _ rhs: String) -> Int {
        let left = lhs.split(separator: ".").map { Int($0) ?? 0 }
        let right = rhs.split(separator: ".").map { Int($0) ?? 0 }
        for index in 0..<max(left.count, right.count) {
            let a = index < left.count ? left[index] : 0
            let b = index < right.count ? right[index] : 0
            if a != b { return a < b ? -1 : 1 }
        }
        return 0
    }
}

import AITBCWire

/// What a job asks of a miner, read once from its constraints: everything matching needs, in a few
/// small fields, so the queue never holds the constraints document itself.
public struct JobRequirement: Hashable, Sendable {
    /// A substring of the GPU model, e.g. `4090`.
    public var gpu: String?
    /// Lowest CUDA version, dotted.
    public var cuda: String?
    public var minimumVRAMGB: Double?
    /// Models the miner must offer, sorted, without repeats.
    public var models: [String]
    public var region: String?
    /// Highest price a miner that states one may ask.
    public var maximumPrice: Double?

    /// Longest text of a matched constraint (`gpu`, `cuda`, `region`, each model name).
    public static let maximumTextLength = 128
    /// Most models a job may require.
    public static let maximumModels = 32

    /// Why `constraints` cannot be held as given (a matched text too long, too many models), naming
    /// the field; nil when they can. This bounds what the queue keeps per job. Fields of another
    /// kind than matching reads are ignored, as they always were (AITBC's clients send loose JSON).
    public static func problem(in constraints: [String: JSONValue]?) -> (field: String, message: String)? {
        guard let constraints else { return nil }
        for field in ["gpu", "region", "cuda"] {
            if let text = constraints[field]?.stringValue, text.utf8.count > maximumTextLength {
                return ("constraints.\(field)", "constraints.\(field) may be at most \(maximumTextLength) bytes")
            }
        }
        if case .array(let list)? = constraints["models"] {
            let names = list.compactMap(\.stringValue)
            guard names.count <= maximumModels, names.allSatisfy({ $0.utf8.count <= maximumTextLength }) else {
                return (
                    "constraints.models",
                    "constraints.models may name at most \(maximumModels) models of at most \(maximumTextLength) bytes each"
                )
            }
        }
        return nil
    }

    /// A job without constraints: any miner may run it.
    public static let any = JobRequirement(constraints: nil)

    /// Reads `gpu`, `cuda`, `min_vram_gb`, `models`, `region` and `max_price`; anything else is ignored.
    public init(constraints: [String: JSONValue]?) {
        let gpu = constraints?["gpu"]?.stringValue
        self.gpu = gpu?.isEmpty == false ? gpu : nil
        self.cuda = constraints?["cuda"].flatMap(CapabilityProfile.versionText)
        self.minimumVRAMGB = constraints?["min_vram_gb"]?.doubleValue
        if case .array(let wanted)? = constraints?["models"] {
            self.models = Array(Set(wanted.compactMap(\.stringValue))).sorted()
        } else {
            self.models = []
        }
        let region = constraints?["region"]?.stringValue
        self.region = region?.isEmpty == false ? region : nil
        self.maximumPrice = constraints?["max_price"]?.doubleValue
    }
}

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

import AITBCDomain
import AITBCWire
import Testing

/// Matching job constraints against AITBC miners' free-form capabilities.
@Suite struct CapabilityProfileTests {
    let aitbcMiner: [String: JSONValue] = [
        "gpu": ["model": "NVIDIA GeForce RTX 4060 Ti", "memory_gb": 16, "cuda_version": "12.4"],
        "compute": ["type": "GPU", "models": ["llama3.2", "mistral"]],
    ]

    @Test func noConstraintsMatchAnyMiner() {
        #expect(CapabilityProfile(capabilities: [:], region: nil).satisfies(nil))
        #expect(CapabilityProfile(capabilities: [:], region: nil).satisfies([:]))
    }

    @Test func readsNestedAITBCCapabilities() {
        let profile = CapabilityProfile(capabilities: aitbcMiner, region: "us-east")
        #expect(profile.gpuModels == ["NVIDIA GeForce RTX 4060 Ti"])
        #expect(profile.vramGB == 16)
        #expect(profile.cudaVersion == "12.4")
        #expect(profile.models == ["llama3.2", "mistral"])
        #expect(profile.satisfies(["gpu": "4060", "min_vram_gb": 16, "cuda": "12.4", "models": ["mistral"], "region": "US-EAST"]))
    }

    @Test func eachConstraintCanExclude() {
        let profile = CapabilityProfile(capabilities: aitbcMiner, region: "us-east")
        #expect(!profile.satisfies(["gpu": "4090"]))
        #expect(!profile.satisfies(["min_vram_gb": 24]))
        #expect(!profile.satisfies(["cuda": "12.10"]))
        #expect(profile.satisfies(["cuda": 12]))
        #expect(!profile.satisfies(["models": ["mixtral"]]))
        #expect(!profile.satisfies(["region": "eu-west"]))
    }

    @Test func pricesExcludeOnlyMinersThatStateOne() {
        let unpriced = CapabilityProfile(capabilities: aitbcMiner, region: nil)
        #expect(unpriced.satisfies(["max_price": 0.01]))
        var priced = aitbcMiner
        priced["price"] = 0.5
        #expect(!CapabilityProfile(capabilities: priced, region: nil).satisfies(["max_price": 0.1]))
        #expect(CapabilityProfile(capabilities: priced, region: nil).satisfies(["max_price": 0.5]))
    }

    @Test func gpuListsAndTopLevelFieldsAreRead() {
        let profile = CapabilityProfile(
            capabilities: ["gpus": [["model": "A100", "memory_gb": 40], ["model": "A100", "memory_gb": 80]], "cuda": "12.2"],
            region: nil)
        #expect(profile.vramGB == 80)
        #expect(profile.satisfies(["gpu": "a100", "min_vram_gb": 80, "cuda": "12.1"]))
    }
}

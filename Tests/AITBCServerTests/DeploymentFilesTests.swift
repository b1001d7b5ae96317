import Foundation
import Testing

@testable import AITBCServer

/// The shipped example environment file is one the server accepts, and names only real settings.
@Suite struct DeploymentFilesTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func exampleEnvironmentFileIsValidAndDocumented() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("deploy/coordinator.env"), encoding: .utf8)
        var environment: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && line.contains("=") {
            let parts = line.split(separator: "=", maxSplits: 1)
            environment[String(parts[0])] = String(parts[1])
        }
        #expect(environment.count >= 10)
        let documented = Set(CoordinatorSettings.documentation.map(\.variable))
        for name in environment.keys { #expect(documented.contains(name), "\(name) is not a documented setting") }
        let settings = try CoordinatorSettings.fromEnvironment(environment)
        #expect(settings.mode == .production)
        let unit = try String(contentsOf: Self.root.appendingPathComponent("deploy/aitbc-coordinator.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/local/bin/aitbc-coordinator"))
        #expect(unit.contains("EnvironmentFile=/etc/aitbc/coordinator.env"))
    }
}

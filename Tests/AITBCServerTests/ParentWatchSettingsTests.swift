import Testing

@testable import AITBCServer

/// `AITBC_PARENT_PID`: documented, unset by default, a positive process id or refused at start.
@Suite struct ParentWatchSettingsTests {
    @Test func theParentProcessIDIsReadDocumentedAndValidated() throws {
        #expect(try CoordinatorSettings.fromEnvironment([:]).parentProcessID == nil)
        #expect(try CoordinatorSettings.fromEnvironment(["AITBC_PARENT_PID": "4242"]).parentProcessID == 4242)
        #expect(CoordinatorSettings.documentation.contains { $0.variable == "AITBC_PARENT_PID" })
        for bad in ["0", "-1", "me", "99999999999"] {
            let error = try #require(throws: CoordinatorSettings.Invalid.self) {
                try CoordinatorSettings.fromEnvironment(["AITBC_PARENT_PID": bad])
            }
            #expect(error.description.contains("AITBC_PARENT_PID"))
        }
    }
}

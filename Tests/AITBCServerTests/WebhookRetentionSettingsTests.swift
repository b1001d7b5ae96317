import AITBCDomain
import Testing

@testable import AITBCServer

/// `AITBC_RETAIN_WEBHOOK_DAYS`: a month by default, set from the environment, listed in `--help`,
/// and refused by name when it makes no sense.
@Suite struct WebhookRetentionSettingsTests {
    @Test func webhookEventsAreKeptAMonthUnlessTheEnvironmentSaysOtherwise() throws {
        #expect(try CoordinatorSettings.fromEnvironment([:]).retention.webhookDays == 30)
        let settings = try CoordinatorSettings.fromEnvironment(["AITBC_RETAIN_WEBHOOK_DAYS": "7"])
        #expect(settings.retention.webhookDays == 7)
        let documented = CoordinatorSettings.documentation.first { $0.variable == "AITBC_RETAIN_WEBHOOK_DAYS" }
        #expect(documented?.defaultValue == "30")
    }

    @Test(arguments: ["0", "-3", "36501", "a month"])
    func anAgeThatMakesNoSenseIsRefusedByName(value: String) throws {
        let error = #expect(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment(["AITBC_RETAIN_WEBHOOK_DAYS": value])
        }
        #expect(error?.description.contains("AITBC_RETAIN_WEBHOOK_DAYS") == true)
    }
}

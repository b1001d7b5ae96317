import AITBCDomain
import Testing

@testable import AITBCServer

/// Retention settings: defaults, the environment, and refusals of ages that make no sense.
@Suite struct RetentionSettingsTests {
    @Test func defaultsKeepAMonthOfJobsAndOverAYearOfUsageAndAudit() throws {
        let settings = try CoordinatorSettings.fromEnvironment([:])
        #expect(settings.retention == RetentionPolicy())
        #expect(settings.retention.finishedJobsDays == 30)
        #expect(settings.retention.auditEventsDays == 400)
        #expect(settings.retention.usageMinutesHours == 48)
        #expect(settings.retention.usageHoursDays == 400)
        #expect(settings.janitorIntervalSeconds == 300)
    }

    @Test func theEnvironmentSetsEveryAge() throws {
        let settings = try CoordinatorSettings.fromEnvironment([
            "AITBC_RETAIN_FINISHED_JOBS_DAYS": "7", "AITBC_RETAIN_AUDIT_DAYS": "2555",
            "AITBC_RETAIN_USAGE_MINUTES_HOURS": "25", "AITBC_RETAIN_USAGE_HOURS_DAYS": "90",
            "AITBC_JANITOR_INTERVAL_SECONDS": "60",
        ])
        #expect(settings.retention.finishedJobsDays == 7)
        #expect(settings.retention.auditEventsDays == 2555)
        #expect(settings.retention.usageMinutesHours == 25)
        #expect(settings.retention.usageHoursDays == 90)
        #expect(settings.janitorIntervalSeconds == 60)
    }

    @Test(arguments: [
        ("AITBC_RETAIN_FINISHED_JOBS_DAYS", "0"), ("AITBC_RETAIN_FINISHED_JOBS_DAYS", "forever"),
        ("AITBC_RETAIN_AUDIT_DAYS", "-1"), ("AITBC_RETAIN_AUDIT_DAYS", "36501"),
        // Fewer than 25 hours would take minutes the usage routes read (the last 24 hours).
        ("AITBC_RETAIN_USAGE_MINUTES_HOURS", "24"), ("AITBC_RETAIN_USAGE_HOURS_DAYS", "0"),
        ("AITBC_JANITOR_INTERVAL_SECONDS", "0"), ("AITBC_JANITOR_INTERVAL_SECONDS", "86401"),
    ])
    func outOfRangeAgesAreRefusedByName(variable: String, value: String) throws {
        let error = #expect(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment([variable: value])
        }
        #expect(error?.description.contains(variable) == true)
    }

    @Test func hoursMustOutliveTheMinutesTheyAreMadeOf() throws {
        let error = #expect(throws: CoordinatorSettings.Invalid.self) {
            try CoordinatorSettings.fromEnvironment([
                "AITBC_RETAIN_USAGE_MINUTES_HOURS": "72", "AITBC_RETAIN_USAGE_HOURS_DAYS": "2",
            ])
        }
        #expect(error?.description.contains("AITBC_RETAIN_USAGE_HOURS_DAYS") == true)
        #expect(throws: Never.self) {
            try CoordinatorSettings.fromEnvironment(["AITBC_RETAIN_USAGE_MINUTES_HOURS": "72", "AITBC_RETAIN_USAGE_HOURS_DAYS": "3"])
        }
    }
}

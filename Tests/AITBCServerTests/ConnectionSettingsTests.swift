import Testing

@testable import AITBCServer

/// The connection bounds are read from the environment, range-checked with a clear message, and
/// documented (in `--help`) with the defaults the server really uses.
@Suite struct ConnectionSettingsTests {
    static let variables = [
        "AITBC_READ_TIMEOUT_SECONDS", "AITBC_IDLE_TIMEOUT_SECONDS", "AITBC_TLS_HANDSHAKE_TIMEOUT_SECONDS",
        "AITBC_MAX_CONNECTIONS", "AITBC_MAX_POLLS_PER_KEY", "AITBC_MAX_POLLS_PER_TENANT",
    ]

    @Test func theBoundsAreReadFromTheEnvironment() throws {
        let settings = try CoordinatorSettings.fromEnvironment([
            "AITBC_READ_TIMEOUT_SECONDS": "5", "AITBC_IDLE_TIMEOUT_SECONDS": "90", "AITBC_TLS_HANDSHAKE_TIMEOUT_SECONDS": "3",
            "AITBC_MAX_CONNECTIONS": "500", "AITBC_MAX_POLLS_PER_KEY": "7", "AITBC_MAX_POLLS_PER_TENANT": "70",
        ])
        #expect(settings.readTimeoutSeconds == 5)
        #expect(settings.idleTimeoutSeconds == 90)
        #expect(settings.tlsHandshakeTimeoutSeconds == 3)
        #expect(settings.maximumConnections == 500)
        #expect(settings.maximumPollsPerKey == 7)
        #expect(settings.maximumPollsPerTenant == 70)
    }

    @Test(arguments: variables) func aBoundOutOfRangeIsRefusedNamingTheVariable(_ variable: String) throws {
        for bad in ["0", "-1", "ten", "99999999999"] {
            let error = try #require(throws: CoordinatorSettings.Invalid.self) {
                try CoordinatorSettings.fromEnvironment([variable: bad])
            }
            #expect(error.description.contains(variable), "\(error)")
        }
    }

    @Test func theDocumentedDefaultsAreTheOnesInForce() {
        let defaults = CoordinatorSettings()
        let documented = Dictionary(
            CoordinatorSettings.documentation.map { ($0.variable, $0.defaultValue) }, uniquingKeysWith: { first, _ in first })
        #expect(documented["AITBC_READ_TIMEOUT_SECONDS"] == String(defaults.readTimeoutSeconds))
        #expect(documented["AITBC_IDLE_TIMEOUT_SECONDS"] == String(defaults.idleTimeoutSeconds))
        #expect(documented["AITBC_TLS_HANDSHAKE_TIMEOUT_SECONDS"] == String(defaults.tlsHandshakeTimeoutSeconds))
        #expect(documented["AITBC_MAX_CONNECTIONS"] == String(defaults.maximumConnections))
        #expect(documented["AITBC_MAX_POLLS_PER_KEY"] == String(defaults.maximumPollsPerKey))
        #expect(documented["AITBC_MAX_POLLS_PER_TENANT"] == String(defaults.maximumPollsPerTenant))
        // Between requests a connection may idle longer than a head may take, and longer than the
        // 60 s a proxy in front keeps idle upstream connections.
        #expect(defaults.idleTimeoutSeconds > 60)
        #expect(defaults.readTimeoutSeconds < defaults.idleTimeoutSeconds)
    }
}

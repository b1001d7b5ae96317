import AITBCTestSupport
import Foundation
import Testing

/// The real server process: acknowledged writes survive `kill -9`; a first start prints one operator key.
@Suite(.serialized) struct CrashRecoveryTests {
    static let master = "integration-master-key-000000000001"

    @Test func acknowledgedKeyWritesSurviveKill9() async throws {
        let database = CoordinatorProcess.temporaryDatabase()
        let first = try await CoordinatorProcess.start(databasePath: database, environment: ["MASTER_API_KEY": Self.master])
        var created: [(id: String, secret: String)] = []
        for index in 0..<5 {
            let reply = try await first.request(
                .POST, "/v1/api-keys", key: Self.master, body: #"{"name": "k\#(index)", "role": "client"}"#)
            #expect(reply.status == 201)
            created.append((reply.json["key_id"] as! String, reply.json["api_key"] as! String))
        }
        let revoked = try await first.request(.DELETE, "/v1/api-keys/\(created[0].id)", key: Self.master)
        #expect(revoked.status == 200)
        let regenerated = try await first.request(.POST, "/v1/api-keys/\(created[1].id)/regenerate", key: Self.master)
        #expect(regenerated.status == 200)
        let newSecret = regenerated.json["api_key"] as! String
        first.kill9()

        let second = try await CoordinatorProcess.start(
            databasePath: database, environment: ["MASTER_API_KEY": Self.master], port: first.port)
        defer { second.terminate() }
        let afterRevoke = try await second.request(.GET, "/v1/me", key: created[0].secret)
        #expect(afterRevoke.status == 401)
        #expect(afterRevoke.body.contains("API_KEY_REVOKED"))
        #expect(try await second.request(.GET, "/v1/me", key: created[1].secret).status == 401)
        #expect(try await second.request(.GET, "/v1/me", key: newSecret).status == 200)
        for key in created.dropFirst(2) {
            #expect(try await second.request(.GET, "/v1/me", key: key.secret).status == 200)
        }
        let audit = try await second.request(.GET, "/v1/audit-events?limit=100", key: Self.master)
        #expect(audit.body.contains("api_key.revoked"))
        #expect(audit.body.contains("api_key.regenerated"))
    }

    @Test func firstStartPrintsOneOperatorKeyAndRestartDoesNot() async throws {
        let database = CoordinatorProcess.temporaryDatabase()
        let first = try await CoordinatorProcess.start(databasePath: database)
        first.terminate()
        let printed = first.readOutput()
        let keys = printed.split(whereSeparator: \.isWhitespace).filter { $0.hasPrefix("aitbc_operator_") }
        #expect(keys.count == 1)
        let secret = String(try #require(keys.first))

        let second = try await CoordinatorProcess.start(databasePath: database)
        let me = try await second.request(.GET, "/v1/me", key: secret)
        #expect(me.status == 200)
        #expect(me.json["role"] as? String == "operator")
        second.terminate()
        #expect(!second.readOutput().contains("aitbc_operator_"))
    }

    @Test func productionModeRefusesDevelopmentKeysAtStart() async throws {
        let ended = try ChildProcess.run(
            try CoordinatorProcess.binaryPath(), [],
            environment: [
                "AITBC_ENV": "production", "CLIENT_API_KEY": "x",
                "AITBC_DATABASE_URL": "sqlite:" + CoordinatorProcess.temporaryDatabase(),
            ].merging(CoordinatorProcess.parentWatch) { $1 })
        let message = ended.stderr
        #expect(ended.status != 0)
        #expect(message.contains("CLIENT_API_KEY"))
        #expect(message.contains("production"))
    }
}

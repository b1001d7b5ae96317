import AITBCDomain
import AITBCServer
import AITBCWire
import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The dashboard: accounts, sessions, the form tokens, API keys and usage, and tenant isolation.
@Suite struct DashboardTests {
    static let password = "correct horse battery staple"

    @Test func signUpCreatesAnAccountWithItsOwnFreeTenantFirstMasterKeyAndSession() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            let page = try await browser.signUp("Ann@Example.com")
            #expect(page.status == .created)
            #expect(page.header("Cache-Control") == "no-store")
            let master = try #require(browser.shownSecret)
            #expect(master.hasPrefix("aitbc_master_"))

            let session = try #require(browser.setCookieLines.first { $0.hasPrefix("aitbc_session=") })
            #expect(session.contains("HttpOnly") && session.contains("SameSite=Lax") && session.contains("Path=/dashboard"))
            #expect(!session.contains("Secure"))

            // The key shown once works against the API, as the master of a new tenant on the free plan.
            let me = try await client.send(.get, "/v1/me", key: master)
            #expect(me.status == .ok)
            #expect(me.json["role"]?.stringValue == "master")
            #expect(me.json["plan"]?.stringValue == "free")
            let tenant = try #require(me.json["tenant_id"]?.stringValue)
            #expect(tenant != "test-tenant")

            let keys = try await browser.get("/dashboard/api-keys")
            #expect(keys.status == .ok)
            #expect(keys.text.contains("Initial master key"))
            #expect(keys.text.contains(tenant))
            #expect(keys.text.contains("ann@example.com"))
            #expect(!keys.text.contains(master))
        }
    }

    @Test func signUpRefusesBadInputNextToTheFieldAndTakenEmails() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            var reply = try await browser.signUp("not-an-email")
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="email-error""#))
            #expect(reply.text.contains(#"value="not-an-email""#))

            reply = try await browser.signUp("bob@example.com", password: "short")
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="password-error""#))
            #expect(reply.text.contains("at least 12 characters"))

            #expect(try await browser.signUp("bob@example.com").status == .created)
            let other = DashboardBrowser(client, address: "203.0.113.11")
            reply = try await other.signUp(" BOB@example.com ")
            #expect(reply.status == .conflict)
            #expect(reply.text.contains(#"id="email-error""#))
            #expect(other.cookies["aitbc_session"] == nil)
        }
    }

    @Test func formsWithoutTheirTokenAreRefusedAndChangeNothing() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            // Sign-up with no token, and with a token that does not match the cookie.
            try await browser.get("/dashboard/sign-up")
            var reply = try await browser.post(
                "/dashboard/sign-up", ["email": "eve@example.com", "password": Self.password], csrf: false)
            #expect(reply.status == .forbidden)
            reply = try await browser.post(
                "/dashboard/sign-up", ["email": "eve@example.com", "password": Self.password, "csrf_token": String(repeating: "x", count: 32)])
            #expect(reply.status == .forbidden)
            #expect(try await harness.coordinator.store.account(email: "eve@example.com") == nil)

            try await browser.signUp("carol@example.com")
            try await browser.get("/dashboard/api-keys")
            let keysBefore = try await browser.get("/dashboard/api-keys").text.components(separatedBy: "data-key-id=").count
            reply = try await browser.post("/dashboard/api-keys", ["name": "forged", "role": "master"], csrf: false)
            #expect(reply.status == .forbidden)
            // A page of another site cannot post even with a token (the browser says where the post came from).
            try await browser.get("/dashboard/api-keys")
            reply = try await browser.post(
                "/dashboard/api-keys", ["name": "forged", "role": "master"], headers: ["Sec-Fetch-Site": "cross-site"])
            #expect(reply.status == .forbidden)
            let keysAfter = try await browser.get("/dashboard/api-keys")
            #expect(keysAfter.text.components(separatedBy: "data-key-id=").count == keysBefore)
            #expect(!keysAfter.text.contains("forged"))

            // Revoke and sign-out without a token do nothing either.
            let keyID = try #require(DashboardBrowser.first(#"data-key-id="(key_[A-Za-z0-9]+)""#, in: keysAfter.text))
            #expect(try await browser.post("/dashboard/api-keys/\(keyID)/revoke", csrf: false).status == .forbidden)
            #expect(try await harness.coordinator.store.key(id: keyID)?.revokedAt == nil)
            #expect(try await browser.post("/dashboard/sign-out", csrf: false).status == .forbidden)
            #expect(try await browser.get("/dashboard/api-keys").status == .ok)
        }
    }

    @Test func sessionsStartAtSignInEndAtSignOutAndExpire() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("dan@example.com")
            let firstSession = try #require(browser.cookies["aitbc_session"])

            // Signed out: the old cookie is worth nothing, even replayed.
            try await browser.get("/dashboard/api-keys")
            var reply = try await browser.post("/dashboard/sign-out")
            #expect(reply.status == .seeOther)
            #expect(reply.header("Location") == "/dashboard/sign-in?signed_out=1")
            #expect(browser.cookies["aitbc_session"] == nil)
            browser.setCookie("aitbc_session", firstSession)
            reply = try await browser.get("/dashboard/api-keys")
            #expect(reply.status == .seeOther)
            #expect(reply.header("Location") == "/dashboard/sign-in")
            browser.forget("aitbc_session")

            // A wrong password gets the same answer as an unknown email.
            reply = try await browser.signIn("dan@example.com", password: "wrong password!!")
            #expect(reply.status == .unauthorized)
            let wrongPassword = reply.text.contains("The email or password is not right")
            reply = try await browser.signIn("nobody@example.com")
            #expect(reply.status == .unauthorized)
            #expect(wrongPassword && reply.text.contains("The email or password is not right"))

            reply = try await browser.signIn("DAN@example.com")
            #expect(reply.status == .seeOther)
            #expect(reply.header("Location") == "/dashboard/api-keys")
            let secondSession = try #require(browser.cookies["aitbc_session"])
            #expect(secondSession != firstSession)
            #expect(try await browser.get("/dashboard/api-keys").status == .ok)

            // Twelve hours later the session has ended on the server.
            harness.clock.advance(by: AccountService.sessionLifetime + 1)
            reply = try await browser.get("/dashboard/api-keys")
            #expect(reply.status == .seeOther)
            #expect(try await harness.coordinator.store.session(digest: DashboardSession.digest(of: secondSession)) == nil)
        }
    }

    @Test func signInAttemptsAreThrottledPerAccountAndPerAddress() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let owner = DashboardBrowser(client, address: "198.51.100.1")
            try await owner.signUp("erin@example.com")

            // Per account: five tries, then even the right password waits, from any address.
            let attacker = DashboardBrowser(client, address: "198.51.100.2")
            for _ in 0..<AccountService.attemptsPerAccountPerMinute {
                #expect(try await attacker.signIn("erin@example.com", password: "guess guess guess").status == .unauthorized)
            }
            let refused = try await attacker.signIn("erin@example.com", password: "guess guess guess")
            #expect(refused.status == .tooManyRequests)
            #expect(Int(refused.header("Retry-After") ?? "") ?? 0 >= 1)
            let elsewhere = DashboardBrowser(client, address: "198.51.100.3")
            #expect(try await elsewhere.signIn("erin@example.com").status == .tooManyRequests)

            // Another account is not affected; after the wait the owner gets in.
            let frank = DashboardBrowser(client, address: "198.51.100.4")
            try await frank.signUp("frank@example.com")
            frank.forget("aitbc_session")
            #expect(try await frank.signIn("frank@example.com").status == .seeOther)
            harness.clock.advance(by: 13)
            #expect(try await elsewhere.signIn("erin@example.com").status == .seeOther)

            // Per address: twenty tries over any emails, then 429.
            let sprayer = DashboardBrowser(client, address: "198.51.100.9")
            var statuses: [HTTPResponse.Status] = []
            for index in 0...AccountService.attemptsPerAddressPerMinute {
                statuses.append(try await sprayer.signIn("user\(index)@example.com").status)
            }
            #expect(statuses.dropLast().allSatisfy { $0 == .unauthorized })
            #expect(statuses.last == .tooManyRequests)
        }
    }

    @Test func keysCreatedRegeneratedAndRevokedInTheDashboardAreTheAPIsKeys() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("grace@example.com")
            let master = try #require(browser.shownSecret)

            try await browser.get("/dashboard/api-keys")
            var reply = try await browser.post(
                "/dashboard/api-keys", ["name": "billing service", "role": "client", "expires_in_days": "30"])
            #expect(reply.status == .created)
            let secret = try #require(browser.shownSecret)
            let keyID = try #require(browser.shownKeyID)
            #expect(secret.hasPrefix("aitbc_client_"))
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)

            // The API's master key sees the same key, with the expiry chosen in the form.
            let viaAPI = try await client.send(.get, "/v1/api-keys/\(keyID)", key: master)
            #expect(viaAPI.status == .ok)
            #expect(viaAPI.json["name"]?.stringValue == "billing service")
            let expires = try #require(viaAPI.json["expires_at"]?.stringValue.flatMap(RFC3339.date(from:)))
            #expect(abs(expires.timeIntervalSince(harness.clock.now()) - 30 * 86400) < 2)
            // A bad role is refused next to its field; nothing is created.
            reply = try await browser.post("/dashboard/api-keys", ["name": "x", "role": "operator", "expires_in_days": "0"])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="role-error""#))
            reply = try await browser.post("/dashboard/api-keys", ["name": "", "role": "client", "expires_in_days": "0"])
            #expect(reply.status == .badRequest)
            #expect(reply.text.contains(#"id="name-error""#))

            // Regenerate with an hour's grace: both secrets work, then only the new one.
            try await browser.get("/dashboard/api-keys/\(keyID)")
            reply = try await browser.post("/dashboard/api-keys/\(keyID)/regenerate", ["grace_period_seconds": "3600"])
            #expect(reply.status == .ok)
            let renewed = try #require(browser.shownSecret)
            #expect(renewed != secret)
            #expect(reply.text.contains("The previous secret keeps working until"))
            #expect(try await client.send(.get, "/v1/jobs", key: renewed).status == .ok)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok)
            harness.clock.advance(by: 3601)
            #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .unauthorized)

            // Revoke: a confirmation page, then the key is refused at once.
            reply = try await browser.get("/dashboard/api-keys/\(keyID)/revoke")
            #expect(reply.status == .ok)
            #expect(reply.text.contains("Revoke billing service?"))
            reply = try await browser.post("/dashboard/api-keys/\(keyID)/revoke")
            #expect(reply.status == .seeOther)
            #expect(reply.header("Location") == "/dashboard/api-keys?revoked=\(keyID)")
            let refused = try await client.send(.get, "/v1/jobs", key: renewed)
            #expect(refused.status == .unauthorized)
            #expect(refused.errorCode == "API_KEY_REVOKED")
            reply = try await browser.get("/dashboard/api-keys?revoked=\(keyID)")
            #expect(reply.text.contains(#"data-key-id="\#(keyID)" data-status="revoked""#))
            #expect(reply.text.contains("Key billing service ("))
            // A crafted link names no key that is not revoked.
            reply = try await browser.get("/dashboard/api-keys?revoked=%3Cscript%3E")
            #expect(!reply.text.contains(#"id="notice""#) && !reply.text.contains("<script>"))

            // The audit log names the account as the actor.
            let audit = try await client.send(.get, "/v1/audit-events", key: master)
            let kinds = audit.json["items"]?.arrayValue?.compactMap { $0["type"]?.stringValue } ?? []
            #expect(kinds.contains("account.created"))
            #expect(kinds.contains("api_key.revoked"))
            let events = try #require(audit.json["items"]?.arrayValue)
            let actors = events.map { "\($0["type"]?.stringValue ?? "?") by \($0["actor_key_id"]?.stringValue ?? "nobody")" }
            #expect(events.allSatisfy { $0["actor_key_id"]?.stringValue?.hasPrefix("acct_") == true }, "\(actors)")
        }
    }

    @Test func theLastMasterKeyCannotBeRevokedFromTheDashboard() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("hal@example.com")
            let master = try #require(browser.shownSecret)
            let masterID = try #require(browser.shownKeyID)
            try await browser.get("/dashboard/api-keys/\(masterID)/revoke")
            let reply = try await browser.post("/dashboard/api-keys/\(masterID)/revoke")
            #expect(reply.status == .conflict)
            #expect(reply.text.contains(#"id="problem""#))
            #expect(try await client.send(.get, "/v1/me", key: master).status == .ok)
        }
    }

    @Test func oneAccountNeverSeesOrTouchesAnotherAccountsKeys() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let ivy = DashboardBrowser(client, address: "192.0.2.1")
            try await ivy.signUp("ivy@example.com")
            try await ivy.get("/dashboard/api-keys")
            try await ivy.post("/dashboard/api-keys", ["name": "ivy's private key", "role": "client", "expires_in_days": "0"])
            let ivyKey = try #require(ivy.shownKeyID)
            let ivySecret = try #require(ivy.shownSecret)

            let jack = DashboardBrowser(client, address: "192.0.2.2")
            try await jack.signUp("jack@example.com")
            let list = try await jack.get("/dashboard/api-keys")
            #expect(!list.text.contains(ivyKey) && !list.text.contains("ivy's private key"))
            #expect(try await jack.get("/dashboard/api-keys/\(ivyKey)").status == .notFound)
            #expect(try await jack.get("/dashboard/api-keys/\(ivyKey)/revoke").status == .notFound)
            try await jack.get("/dashboard/api-keys")
            #expect(try await jack.post("/dashboard/api-keys/\(ivyKey)/revoke").status == .notFound)
            try await jack.get("/dashboard/api-keys")
            #expect(try await jack.post("/dashboard/api-keys/\(ivyKey)/regenerate", ["grace_period_seconds": "0"]).status == .notFound)
            let usage = try await jack.get("/dashboard/usage")
            #expect(!usage.text.contains(ivyKey))
            #expect(try await client.send(.get, "/v1/jobs", key: ivySecret).status == .ok)
            // Jack's master key cannot see it through the API either.
            let jackMaster = try #require(DashboardBrowser.first(#"value="(aitbc_master_[A-Za-z0-9]+)""#, in: try await {
                let fresh = DashboardBrowser(client, address: "192.0.2.3")
                return try await fresh.signUp("kim@example.com").text
            }()))
            #expect(try await client.send(.get, "/v1/api-keys/\(ivyKey)", key: jackMaster).status == .notFound)
        }
    }

    @Test func usageShowsAdmittedRateLimitedAndErrorsPerKeyAndTenant() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("liz@example.com")
            try await browser.get("/dashboard/api-keys")
            try await browser.post("/dashboard/api-keys", ["name": "worker", "role": "client", "expires_in_days": "0"])
            let secret = try #require(browser.shownSecret)
            let keyID = try #require(browser.shownKeyID)
            // The dashboard's pages spend the same budget as the API: start with a full minute.
            harness.clock.advance(by: 60)
            // The free plan admits 60 a minute: 58 successes, 2 errors, then 3 refusals.
            for _ in 0..<58 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .ok) }
            for _ in 0..<2 { #expect(try await client.send(.get, "/v1/jobs/job_missing", key: secret).status == .notFound) }
            for _ in 0..<3 { #expect(try await client.send(.get, "/v1/jobs", key: secret).status == .tooManyRequests) }

            harness.clock.advance(by: 60)
            let page = try await browser.get("/dashboard/api-keys/\(keyID)")
            #expect(page.text.contains(#"<strong id="total-admitted">58</strong>"#))
            #expect(page.text.contains(#"<strong id="total-rate-limited">3</strong>"#))
            #expect(page.text.contains(#"<strong id="total-errors">2</strong>"#))
            #expect(page.text.contains(#"<rect data-kind="admitted" data-count="58""#))
            #expect(page.text.contains("<svg"))

            let usage = try await browser.get("/dashboard/usage")
            #expect(usage.status == .ok)
            #expect(usage.text.contains("Plan <strong>free</strong>: 60 requests per minute"))
            #expect(usage.text.contains(#"<strong id="total-admitted">58</strong>"#))
            #expect(usage.text.contains(#"<tr data-key-id="\#(keyID)">"#))
        }
    }

    @Test func signedOutVisitorsAreSentToSignIn() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            for path in ["/dashboard", "/dashboard/api-keys", "/dashboard/usage", "/dashboard/api-keys/key_x"] {
                let reply = try await browser.get(path)
                #expect(reply.status == .seeOther, "\(path)")
                #expect(reply.header("Location") == "/dashboard/sign-in", "\(path)")
            }
            #expect(try await browser.post("/dashboard/api-keys", ["name": "x"]).status == .seeOther)
            #expect(try await browser.get("/dashboard/sign-in").status == .ok)
        }
    }

    @Test func pagesAreSelfContainedAndAssetsAreCached() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("max@example.com")
            for path in ["/dashboard/api-keys", "/dashboard/usage", "/dashboard/sign-in", "/dashboard/sign-up"] {
                let page = try await browser.get(path)
                let csp = try #require(page.header("Content-Security-Policy"))
                #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"))
                #expect(page.header("X-Frame-Options") == "DENY")
                // Nothing from elsewhere: only the SVG namespace is a full URL.
                let external = page.text.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
                #expect(!external.contains("http://") && !external.contains("https://") && !external.contains("//cdn"))
            }
            for asset in ["dashboard.css", "dashboard.js"] {
                let reply = try await browser.get("/dashboard/assets/\(asset)")
                #expect(reply.status == .ok)
                #expect(reply.header("Cache-Control")?.contains("max-age=31536000") == true)
                let etag = try #require(reply.header("ETag"))
                #expect(try await browser.get("/dashboard/assets/\(asset)", headers: ["If-None-Match": etag]).status == .notModified)
            }
            let head = try await client.send(.head, "/dashboard/assets/dashboard.css")
            #expect(head.status == .ok && head.header("ETag") != nil)
            #expect(try await browser.get("/dashboard/assets/other.css").status == .notFound)
        }
    }

    @Test func passwordsAndSessionTokensNeverReachTheDatabaseFile() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("ned@example.com", password: "a very memorable passphrase")
            let session = try #require(browser.cookies["aitbc_session"])
            let master = try #require(browser.shownSecret)
            try await harness.coordinator.store.close()
            let bytes = try await harness.database.storedBytes()
            for secret in ["a very memorable passphrase", session, master] {
                #expect(bytes.range(of: Data(secret.utf8)) == nil)
            }
            #expect(bytes.range(of: Data("ned@example.com".utf8)) != nil)
        }
    }

    @Test func theDashboardCanBeSwitchedOff() async throws {
        let harness = try await Harness.make { $0.dashboardEnabled = false }
        try await harness.test { client in
            let reply = try await client.send(.get, "/dashboard/sign-up")
            #expect(reply.status == .notFound)
            #expect(reply.errorCode == "NOT_FOUND")
        }
    }

    @Test func signingOutEverywhereEndsEveryBrowsersSession() async throws {
        let harness = try await Harness.make()
        try await harness.test { client in
            let laptop = DashboardBrowser(client, address: "192.0.2.20")
            try await laptop.signUp("olga@example.com")
            let phone = DashboardBrowser(client, address: "192.0.2.21")
            #expect(try await phone.signIn("olga@example.com").status == .seeOther)
            #expect(try await phone.get("/dashboard/usage").status == .ok)
            let reply = try await phone.post("/dashboard/sign-out-everywhere")
            #expect(reply.status == .seeOther)
            #expect(try await phone.get("/dashboard/api-keys").status == .seeOther)
            #expect(try await laptop.get("/dashboard/api-keys").status == .seeOther)
        }
    }

    @Test func cookiesAreSecureUnderHTTPS() async throws {
        var settings = CoordinatorSettings()
        #expect(!settings.secureCookies)
        settings.tlsCertificatePath = "/etc/ssl/cert.pem"
        #expect(settings.secureCookies)
        let harness = try await Harness.make { $0.secureCookiesOverride = true }
        try await harness.test { client in
            let browser = DashboardBrowser(client)
            try await browser.signUp("pat@example.com")
            let session = try #require(browser.setCookieLines.first { $0.hasPrefix("aitbc_session=") })
            #expect(session.contains("Secure") && session.contains("HttpOnly") && session.contains("SameSite=Lax"))
            #expect(browser.setCookieLines.allSatisfy { $0.contains("Secure") })
        }
    }
}

import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The API keys and usage pages.
extension DashboardController {
    static var signInRedirect: Response { DashboardPages.redirect("/dashboard/sign-in") }
    static var pageSize: Int { 50 }

    /// Roles an account may create (operator keys belong to the deployment, not to a tenant).
    static var creatableRoles: [(value: String, label: String)] {
        [("client", "client: submit and read jobs"), ("miner", "miner: run jobs"), ("master", "master: manage keys")]
    }

    static var expiryChoices: [(days: Int, label: String)] {
        [(0, "Never"), (1, "In 1 day"), (7, "In 7 days"), (30, "In 30 days"), (90, "In 90 days"), (365, "In 1 year")]
    }

    func keysPage(_ request: Request) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        var notice: String?
        // Only a key of this tenant that is revoked: a crafted link cannot make the page say anything else.
        if let revoked = request.uri.queryParameters["revoked"],
            let record = try? await keys.get(String(revoked), by: signedIn.principal), record.revokedAt != nil
        {
            notice = "Key \(record.name) (\(record.hint)) is revoked."
        }
        return try await keysList(request, signedIn: signedIn, notice: notice)
    }

    func keysList(
        _ request: Request, signedIn: SignedIn, name: String = "", role: String = "client", expiry: String = "0",
        allowedIPs: String = "", errors: [String: String] = [:], problem: String? = nil, notice: String? = nil,
        status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]
    ) async throws -> Response {
        let cursor = request.uri.queryParameters["cursor"].flatMap { ListCursor(token: String($0)) }
        let found = try await keys.list(by: signedIn.principal, after: cursor, limit: Self.pageSize + 1)
        let shown = Array(found.prefix(Self.pageSize))
        let now = time.now()
        var data: [String: Any] = [
            "tenantID": signedIn.principal.tenant.id, "plan": signedIn.principal.tenant.plan,
            "planLimit": signedIn.principal.tenantLimit,
            "keys": shown.map { DashboardPages.keyRow($0, now: now) },
            "nameField": DashboardPages.field(
                "name", label: "Name", type: "text", value: name, error: errors["name"],
                hint: "What the key is for, e.g. \"billing service\".", autocomplete: "off"),
            "roles": Self.creatableRoles.map { ["value": $0.value, "label": $0.label, "selected": $0.value == role] },
            "expiries": Self.expiryChoices.map {
                ["value": String($0.days), "label": $0.label, "selected": String($0.days) == expiry]
            },
        ]
        if found.count > Self.pageSize, let last = shown.last {
            data["nextCursor"] = ListCursor(createdAtMilliseconds: last.createdAt.unixMilliseconds, id: last.id).token
        }
        if let message = errors["role"] ?? errors["scopes"] { data["roleError"] = message }
        if let message = errors["expires_at"] ?? errors["expires_in_days"] { data["expiryError"] = message }
        data["ipsValue"] = allowedIPs
        if let message = errors["allowed_ips"] { data["ipsError"] = message }
        if let problem { data["problem"] = problem }
        if let notice { data["notice"] = notice }
        data.merge(try await quotaGauges(signedIn)) { _, gauge in gauge }
        return pages.page("api-keys", title: "API keys", data: data, signedIn: signedIn, status: status, extraHeaders: headers)
    }

    func createKey(_ request: Request, context: Context) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(NewKeyForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        let name = form.name ?? "", role = form.role ?? "", expiry = form.expires_in_days ?? "0"
        let allowedIPs = form.allowed_ips ?? ""
        let ipEntries = allowedIPs.split(whereSeparator: { $0 == "," || $0.isWhitespace }).map(String.init)
        do {
            guard Self.creatableRoles.contains(where: { $0.value == role }) else {
                throw CoordinatorError.invalidField("role", "Choose client, miner or master")
            }
            guard let days = Int(expiry), Self.expiryChoices.contains(where: { $0.days == days }) else {
                throw CoordinatorError.invalidField("expires_in_days", "Choose one of the listed expiry times")
            }
            let expiresAt = days == 0 ? nil : time.now().addingTimeInterval(TimeInterval(days) * 86400)
            let issued = try await keys.create(
                NewKeyRequest(
                    name: name, role: role, expiresAt: expiresAt, allowedIPs: ipEntries.isEmpty ? nil : ipEntries),
                by: signedIn.principal)
            return secretPage(
                issued, heading: "Key created", signedIn: signedIn, status: .created,
                continueTo: ("/dashboard/api-keys", "Back to API keys"))
        } catch let error as CoordinatorError where error.kind != .unavailable {
            let (errors, problem, status, headers) = Self.formErrors(error)
            return try await keysList(
                request, signedIn: signedIn, name: name, role: role, expiry: expiry, allowedIPs: allowedIPs, errors: errors,
                problem: problem, status: status, headers: headers)
        }
    }

    func keyPage(_ request: Request, context: Context) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let record = try await visibleKey(context, signedIn) else { return keyNotFound(signedIn) }
        return try await keyDetail(record, signedIn: signedIn)
    }

    func keyDetail(
        _ record: APIKeyRecord, signedIn: SignedIn, problem: String? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let usage = try await keys.usage(of: record.id, by: signedIn.principal)
        var data = DashboardPages.keyRow(usage.record, now: time.now())
        if let lastUse = usage.lastUse {
            data["lastUsedText"] = DashboardPages.readable(lastUse.at)
            if let from = lastUse.from { data["lastUsedFrom"] = from }
        }
        data["chart"] = DashboardPages.chart(UsageChart(minutes: usage.minutes, now: time.now()), title: "Requests of \(record.name)")
        if let credits = try await creditGauge(usage.record) { data["credits"] = credits }
        if let problem { data["problem"] = problem }
        return pages.page("key", title: record.name, data: data, signedIn: signedIn, status: status)
    }

    func revokePage(_ request: Request, context: Context) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let record = try await visibleKey(context, signedIn) else { return keyNotFound(signedIn) }
        return pages.page(
            "revoke", title: "Revoke \(record.name)", data: DashboardPages.keyRow(record, now: time.now()),
            signedIn: signedIn)
    }

    func revoke(_ request: Request, context: Context) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(TokenForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let record = try await visibleKey(context, signedIn) else { return keyNotFound(signedIn) }
        do {
            let revoked = try await keys.revoke(record.id, by: signedIn.principal)
            return DashboardPages.redirect("/dashboard/api-keys?revoked=\(revoked.id)")
        } catch let error as CoordinatorError where error.kind == .conflict || error.kind == .forbidden {
            let (_, _, status, _) = Self.formErrors(error)
            return try await keyDetail(record, signedIn: signedIn, problem: error.message, status: status)
        }
    }

    func regenerate(_ request: Request, context: Context) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        let form = try await request.form(RegenerateForm.self, context: context)
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        guard let record = try await visibleKey(context, signedIn) else { return keyNotFound(signedIn) }
        guard let grace = Int(form.grace_period_seconds ?? "0"), (0...KeyService.maximumGracePeriod).contains(grace)
        else {
            return try await keyDetail(
                record, signedIn: signedIn, problem: "Choose one of the listed grace periods", status: .badRequest)
        }
        do {
            let issued = try await keys.regenerate(record.id, gracePeriodSeconds: grace, by: signedIn.principal)
            return secretPage(
                issued, heading: "New secret issued", signedIn: signedIn, status: .ok,
                continueTo: ("/dashboard/api-keys/\(record.id)", "Back to the key"))
        } catch let error as CoordinatorError where error.kind == .conflict || error.kind == .forbidden {
            let (_, _, status, _) = Self.formErrors(error)
            return try await keyDetail(record, signedIn: signedIn, problem: error.message, status: status)
        }
    }

    /// Usage of every key of the tenant: one storage read whatever the number of keys.
    func usagePage(_ request: Request) async throws -> Response {
        guard let signedIn = try await signedIn(request) else { return Self.signInRedirect }
        if let refused = try await refusedOverBudget(signedIn) { return refused }
        let usage = try await keys.tenantUsage(by: signedIn.principal)
        let perKey = usage.keys.map { key -> [String: Any] in
            [
                "id": key.record.id, "name": key.record.name, "hint": key.record.hint, "admitted": key.counts.admitted,
                "rateLimited": key.counts.rateLimited, "errors": key.counts.errors,
            ]
        }
        var data: [String: Any] = [
            "tenantID": signedIn.principal.tenant.id, "plan": signedIn.principal.tenant.plan,
            "planLimit": signedIn.principal.tenantLimit, "perKey": perKey,
            "chart": DashboardPages.chart(UsageChart(minutes: usage.minutes, now: time.now()), title: "Requests of all keys"),
        ]
        data.merge(try await quotaGauges(signedIn)) { _, gauge in gauge }
        return pages.page("usage", title: "Usage", data: data, signedIn: signedIn)
    }

    // MARK: helpers

    /// The key named in the path if the account may see it.
    func visibleKey(_ context: Context, _ signedIn: SignedIn) async throws -> APIKeyRecord? {
        guard let id = context.parameters.get("key_id") else { return nil }
        do {
            return try await keys.get(id, by: signedIn.principal)
        } catch let error as CoordinatorError where error.kind == .notFound {
            return nil
        }
    }

    func keyNotFound(_ signedIn: SignedIn) -> Response {
        pages.message(
            heading: "No such key", text: "This tenant has no key with that id.",
            link: ("/dashboard/api-keys", "Back to API keys"), status: .notFound, signedIn: signedIn)
    }

    /// The page that shows a secret, once. Nothing caches it (`no-store`).
    func secretPage(
        _ issued: IssuedKey, heading: String, signedIn: SignedIn, status: HTTPResponse.Status,
        continueTo: (url: String, label: String), cookies: [Cookie] = []
    ) -> Response {
        var data: [String: Any] = [
            "heading": heading, "secret": issued.secret, "name": issued.record.name,
            "role": issued.record.role.rawValue, "keyID": issued.record.id, "continueURL": continueTo.url,
            "continueLabel": continueTo.label,
        ]
        if let until = issued.record.previousValidUntil, until > time.now() {
            data["graceUntil"] = RFC3339.string(from: until)
            data["graceText"] = DashboardPages.readable(until)
        }
        return pages.page("secret", title: heading, data: data, signedIn: signedIn, status: status, cookies: cookies)
    }
}

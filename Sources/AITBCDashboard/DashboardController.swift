import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The dashboard under `/dashboard`: sign up, sign in and out, API keys, usage. Pages are rendered on the
/// server and every flow works without JavaScript.
///
/// A signed-in account acts on its tenant's keys through the same ``KeyService`` as a master key of the
/// API. Sessions live in storage (the cookie holds a random token, the store its digest), so signing
/// out ends them everywhere at once. Every form carries a token that a page of another site cannot read:
/// the session's, or before sign-in a token in its own cookie (double submit).
public struct DashboardController<Context: RequestContext>: Sendable {
    let accounts: AccountService
    let keys: KeyService
    let time: any TimeSource
    let secrets: any SecretSource
    let secureCookies: Bool
    let throttleKey: @Sendable (Request, Context) -> String?
    /// The API's request budgets: a signed-in account's actions are charged to its tenant's.
    let budgets: RequestBudgets
    let pages: DashboardPages

    static var sessionCookie: String { "aitbc_session" }
    static var formCookie: String { "aitbc_csrf" }

    /// - Parameters:
    ///   - secureCookies: mark cookies `Secure` (the coordinator serves HTTPS, or sits behind a proxy that does).
    ///   - throttleKey: the caller's address as throttles count it (an IPv6 address's /64), for sign-in attempts.
    ///   - budgets: the API's request budgets, which a signed-in account's actions are charged to as API calls are.
    public init(
        accounts: AccountService, keys: KeyService, time: any TimeSource, secrets: any SecretSource,
        secureCookies: Bool, throttleKey: @escaping @Sendable (Request, Context) -> String?,
        budgets: RequestBudgets
    ) throws {
        self.accounts = accounts
        self.keys = keys
        self.time = time
        self.secrets = secrets
        self.secureCookies = secureCookies
        self.throttleKey = throttleKey
        self.budgets = budgets
        self.pages = try DashboardPages()
    }

    /// Adds the dashboard's routes under `/dashboard`.
    public func addRoutes(to router: Router<Context>) {
        func on(_ method: HTTPRequest.Method, _ path: String, _ handler: @escaping @Sendable (Request, Context) async throws -> Response) {
            let full = "/dashboard" + (path.isEmpty ? "" : "/" + path)
            router.on(RouterPath(full), method: method, use: handler)
        }
        on(.get, "") { request, _ in try await home(request) }
        on(.get, "sign-up") { request, _ in try await signUpPage(request) }
        on(.post, "sign-up") { request, context in try await signUp(request, context: context) }
        on(.get, "sign-in") { request, _ in try await signInPage(request) }
        on(.post, "sign-in") { request, context in try await signIn(request, context: context) }
        on(.post, "sign-out") { request, context in try await signOut(request, context: context) }
        on(.post, "sign-out-everywhere") { request, context in try await signOut(request, context: context, everywhere: true) }
        on(.get, "api-keys") { request, _ in try await keysPage(request) }
        on(.post, "api-keys") { request, context in try await createKey(request, context: context) }
        on(.get, "api-keys/{key_id}") { request, context in try await keyPage(request, context: context) }
        on(.get, "api-keys/{key_id}/revoke") { request, context in try await revokePage(request, context: context) }
        on(.post, "api-keys/{key_id}/revoke") { request, context in try await revoke(request, context: context) }
        on(.post, "api-keys/{key_id}/regenerate") { request, context in try await regenerate(request, context: context) }
        on(.get, "usage") { request, _ in try await usagePage(request) }
        on(.get, "assets/{name}") { request, context in asset(request, context: context) }
        on(.head, "assets/{name}") { request, context in asset(request, context: context) }
    }

    // MARK: accounts

    func home(_ request: Request) async throws -> Response {
        try await signedIn(request) == nil ? DashboardPages.redirect("/dashboard/sign-in") : DashboardPages.redirect("/dashboard/api-keys")
    }

    func signUpPage(_ request: Request) async throws -> Response {
        if try await signedIn(request) != nil { return DashboardPages.redirect("/dashboard/api-keys") }
        let (token, cookie) = formToken(request)
        return accountForm(.signUp, csrf: token, email: "", cookies: cookie.map { [$0] } ?? [])
    }

    /// The two forms that take an email and a password.
    enum AccountForm {
        case signUp
        case signIn
    }

    /// The sign-up or sign-in page, with what was typed (never the password) and the errors beside their fields.
    func accountForm(
        _ kind: AccountForm, csrf: String, email: String, errors: [String: String] = [:], problem: String? = nil,
        notice: String? = nil, status: HTTPResponse.Status = .ok, cookies: [Cookie] = [], headers: HTTPFields = [:]
    ) -> Response {
        let signingUp = kind == .signUp
        var data: [String: Any] = [
            "csrf": csrf,
            "emailField": DashboardPages.field(
                "email", label: "Email", type: "email", value: email, error: errors["email"], autocomplete: "email"),
            "passwordField": DashboardPages.field(
                "password", label: "Password", type: "password", error: errors["password"],
                hint: signingUp ? "At least \(AccountService.minimumPasswordLength) characters." : nil,
                autocomplete: signingUp ? "new-password" : "current-password",
                minimumLength: signingUp ? AccountService.minimumPasswordLength : nil),
        ]
        if signingUp {
            data["plan"] = AccountService.signUpPlan
            data["planLimit"] = accounts.plans.limit(of: AccountService.signUpPlan) ?? 0
        }
        if let problem { data["problem"] = problem }
        if let notice { data["notice"] = notice }
        return pages.page(
            signingUp ? "sign-up" : "sign-in", title: signingUp ? "Create an account" : "Sign in", data: data,
            status: status, cookies: cookies, extraHeaders: headers)
    }

    func signUp(_ request: Request, context: Context) async throws -> Response {
        let form = try await request.form(SignUpForm.self, context: context)
        guard let csrf = anonymousFormTokenMatches(request, form.csrf_token) else { return formExpired() }
        let email = form.email ?? ""
        do {
            let created = try await accounts.signUp(
                email: email, password: form.password ?? "", from: throttleKey(request, context))
            let signedIn = SignedIn(
                account: created.account, session: created.session.session, principal: created.principal)
            return secretPage(
                created.masterKey, heading: "Your account is ready", signedIn: signedIn, status: .created,
                continueTo: ("/dashboard/api-keys", "Continue to API keys"),
                cookies: [sessionCookie(created.session.token), clearCookie(Self.formCookie)])
        } catch let error as CoordinatorError {
            let (errors, problem, status, headers) = Self.formErrors(error)
            return accountForm(
                .signUp, csrf: csrf, email: email, errors: errors, problem: problem, status: status, headers: headers)
        }
    }

    func signInPage(_ request: Request) async throws -> Response {
        if try await signedIn(request) != nil { return DashboardPages.redirect("/dashboard/api-keys") }
        let (token, cookie) = formToken(request)
        let notice = request.uri.queryParameters["signed_out"] != nil ? "You are signed out." : nil
        return accountForm(.signIn, csrf: token, email: "", notice: notice, cookies: cookie.map { [$0] } ?? [])
    }

    func signIn(_ request: Request, context: Context) async throws -> Response {
        let form = try await request.form(SignUpForm.self, context: context)
        guard let csrf = anonymousFormTokenMatches(request, form.csrf_token) else { return formExpired() }
        let email = form.email ?? ""
        do {
            let session = try await accounts.signIn(
                email: email, password: form.password ?? "", from: throttleKey(request, context))
            return DashboardPages.redirect(
                "/dashboard/api-keys", cookies: [sessionCookie(session.token), clearCookie(Self.formCookie)])
        } catch let error as CoordinatorError {
            let (errors, problem, status, headers) = Self.formErrors(error)
            return accountForm(
                .signIn, csrf: csrf, email: email, errors: errors, problem: problem, status: status, headers: headers)
        }
    }

    /// Ends this browser's session, or with `everywhere` every session of the account.
    func signOut(_ request: Request, context: Context, everywhere: Bool = false) async throws -> Response {
        let form = try await request.form(TokenForm.self, context: context)
        guard let token = request.cookies[Self.sessionCookie]?.value, let signedIn = try await signedIn(request) else {
            return DashboardPages.redirect("/dashboard/sign-in", cookies: [clearCookie(Self.sessionCookie)])
        }
        guard sessionFormTokenMatches(request, form.csrf_token, signedIn) else { return formExpired(signedIn) }
        if everywhere {
            try await accounts.signOutEverywhere(accountID: signedIn.account.id)
        } else {
            try await accounts.signOut(token: token)
        }
        return DashboardPages.redirect("/dashboard/sign-in?signed_out=1", cookies: [clearCookie(Self.sessionCookie)])
    }

    // MARK: sessions and form tokens

    /// The account signed in with this request's cookie, or nil.
    func signedIn(_ request: Request) async throws -> SignedIn? {
        guard let token = request.cookies[Self.sessionCookie]?.value else { return nil }
        return try await accounts.signedIn(token: token)
    }

    /// The pre-sign-in form token: the one in the browser's cookie, or a new one and the cookie that carries it.
    func formToken(_ request: Request) -> (String, Cookie?) {
        if let existing = request.cookies[Self.formCookie]?.value, existing.count == 32 { return (existing, nil) }
        let token = secrets.base62(count: 32)
        return (token, cookie(Self.formCookie, token, maxAge: 2 * 3600))
    }

    /// The form token if the form and the cookie carry the same one and the browser did not say the post
    /// came from another site.
    func anonymousFormTokenMatches(_ request: Request, _ submitted: String?) -> String? {
        guard !Self.isCrossSite(request), let cookie = request.cookies[Self.formCookie]?.value,
            Self.tokensMatch(submitted, cookie)
        else { return nil }
        return cookie
    }

    /// Checks a signed-in form's token.
    func sessionFormTokenMatches(_ request: Request, _ submitted: String?, _ signedIn: SignedIn) -> Bool {
        !Self.isCrossSite(request) && Self.tokensMatch(submitted, signedIn.session.csrfToken)
    }

    static func isCrossSite(_ request: Request) -> Bool {
        request.headers[HTTPField.Name("Sec-Fetch-Site")!] == "cross-site"
    }

    /// Constant-time comparison of two tokens.
    static func tokensMatch(_ submitted: String?, _ expected: String) -> Bool {
        guard let submitted else { return false }
        let a = Array(submitted.utf8), b = Array(expected.utf8)
        guard a.count == b.count, !a.isEmpty else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    func formExpired(_ signedIn: SignedIn? = nil) -> Response {
        pages.message(
            heading: "This form has expired",
            text: "The page was open too long or came from another site, so nothing was done. Go back, reload the page and try again.",
            link: signedIn == nil ? ("/dashboard/sign-in", "Back to sign in") : ("/dashboard/api-keys", "Back to API keys"),
            status: .forbidden, signedIn: signedIn)
    }

    func sessionCookie(_ token: String) -> Cookie {
        cookie(Self.sessionCookie, token, maxAge: Int(AccountService.sessionLifetime))
    }

    func clearCookie(_ name: String) -> Cookie { cookie(name, "", maxAge: 0) }

    func cookie(_ name: String, _ value: String, maxAge: Int) -> Cookie {
        Cookie(
            name: name, value: value, maxAge: maxAge, path: "/dashboard", secure: secureCookies, httpOnly: true,
            sameSite: .lax)
    }

    /// Field errors, a page-level problem, the status and headers for a refused form.
    static func formErrors(_ error: CoordinatorError) -> ([String: String], String?, HTTPResponse.Status, HTTPFields) {
        var headers: HTTPFields = [:]
        let status: HTTPResponse.Status
        switch error.kind {
        case .invalidRequest: status = .badRequest
        case .unauthorized: status = .unauthorized
        case .forbidden: status = .forbidden
        case .notFound: status = .notFound
        case .conflict: status = .conflict
        case .rateLimited(let seconds):
            status = .tooManyRequests
            headers[.retryAfter] = "\(max(1, seconds))"
        case .unavailable: status = .serviceUnavailable
        default: status = .internalServerError
        }
        if case .string(let field) = error.details["field"] { return ([field: error.message], nil, status, headers) }
        return ([:], error.message, status, headers)
    }

    // MARK: assets

    func asset(_ request: Request, context: Context) -> Response {
        guard let name = context.parameters.get("name"), let asset = DashboardAsset.byName[name] else {
            return pages.message(
                heading: "Not found", text: "There is no such file.", link: ("/dashboard", "Dashboard"), status: .notFound)
        }
        var headers: HTTPFields = [
            .contentType: asset.contentType, .eTag: asset.etag,
            .cacheControl: "public, max-age=31536000, immutable",
            HTTPField.Name("X-Content-Type-Options")!: "nosniff",
        ]
        if request.headers[.ifNoneMatch] == asset.etag {
            headers[.contentType] = nil
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: asset.body)))
    }
}

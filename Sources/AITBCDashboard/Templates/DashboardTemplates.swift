import Mustache

/// The dashboard's Mustache templates. They are compiled into the binary rather than shipped as
/// resource files, so a copied `aitbc-coordinator` executable serves its dashboard with nothing beside it.
/// Every page extends `layout`; `{{…}}` escapes, and the only unescaped value is the chart's SVG,
/// which ``UsageChart`` escapes itself.
enum DashboardTemplates {
    static func library() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for (name, text) in all { try library.register(text, named: name) }
        return library
    }

    static let all: [(String, String)] = [
        ("layout", layout), ("field", field), ("sign-up", signUp), ("sign-in", signIn), ("api-keys", apiKeys),
        ("key", key), ("chart", chart), ("secret", secret), ("revoke", revoke), ("usage", usage), ("message", message),
    ] + webhookTemplates + gaugeTemplates

    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · AITBC Coordinator</title>
        <link rel="stylesheet" href="/dashboard/assets/dashboard.css?v={{assetVersion}}">
        </head>
        <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/dashboard">AITBC Coordinator</a>
          {{#account}}
          <nav aria-label="Dashboard">
            <a href="/dashboard/api-keys"{{#onKeys}} aria-current="page"{{/onKeys}}>API keys</a>
            <a href="/dashboard/usage"{{#onUsage}} aria-current="page"{{/onUsage}}>Usage</a>
            <a href="/dashboard/webhooks"{{#onWebhooks}} aria-current="page"{{/onWebhooks}}>Webhooks</a>
          </nav>
          <form method="post" action="/dashboard/sign-out" class="sign-out">
            <input type="hidden" name="csrf_token" value="{{csrf}}">
            <span class="who">{{email}}</span>
            <button type="submit" class="link" id="sign-out">Sign out</button>
          </form>
          {{/account}}
        </header>
        <main id="main">
        {{#notice}}<p class="notice" role="status" id="notice">{{.}}</p>{{/notice}}
        {{#problem}}<p class="problem" role="alert" id="problem">{{.}}</p>{{/problem}}
        {{$content}}{{/content}}
        </main>
        <script src="/dashboard/assets/dashboard.js?v={{assetVersion}}" defer></script>
        </body>
        </html>
        """

    /// One labelled input with its error beside it: push `{name, label, type, value, error, hint, autocomplete}`.
    static let field = """
        <div class="field{{#error}} invalid{{/error}}">
          <label for="{{name}}">{{label}}</label>
          {{#hint}}<p class="hint" id="{{name}}-hint">{{.}}</p>{{/hint}}
          <input id="{{name}}" name="{{name}}" type="{{type}}" value="{{value}}" autocomplete="{{autocomplete}}" required{{#minlength}} minlength="{{.}}"{{/minlength}}{{#error}} aria-invalid="true" aria-describedby="{{name}}-error"{{/error}}{{^error}}{{#hint}} aria-describedby="{{name}}-hint"{{/hint}}{{/error}}>
          {{#error}}<p class="error" id="{{name}}-error">{{.}}</p>{{/error}}
        </div>
        """

    static let signUp = """
        {{<layout}}{{$content}}
        <section class="card narrow">
        <h1>Create an account</h1>
        <p>An account gets its own tenant on the <strong>{{plan}}</strong> plan ({{planLimit}} requests per minute) and a first master key.</p>
        <form method="post" action="/dashboard/sign-up" novalidate>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          {{#emailField}}{{>field}}{{/emailField}}
          {{#passwordField}}{{>field}}{{/passwordField}}
          <button type="submit" id="sign-up">Create account</button>
        </form>
        <p>Have an account? <a href="/dashboard/sign-in">Sign in</a>.</p>
        </section>
        {{/content}}{{/layout}}
        """

    static let signIn = """
        {{<layout}}{{$content}}
        <section class="card narrow">
        <h1>Sign in</h1>
        <form method="post" action="/dashboard/sign-in" novalidate>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          {{#emailField}}{{>field}}{{/emailField}}
          {{#passwordField}}{{>field}}{{/passwordField}}
          <button type="submit" id="sign-in">Sign in</button>
        </form>
        <p>New here? <a href="/dashboard/sign-up">Create an account</a>.</p>
        </section>
        {{/content}}{{/layout}}
        """

    static let apiKeys = """
        {{<layout}}{{$content}}
        <h1>API keys</h1>
        <p class="lead">Tenant <code>{{tenantID}}</code> · plan <strong>{{plan}}</strong> · {{planLimit}} requests per minute shared by all keys.</p>
        {{#hasQuota}}{{>quota-gauges}}{{/hasQuota}}
        <div class="table-wrap">
        <table class="keys" id="keys">
          <caption class="visually-hidden">API keys of this tenant, newest first</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Role</th><th scope="col">Key</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Expires</th><th scope="col">Status</th></tr></thead>
          <tbody>
          {{#keys}}
          <tr id="row-{{id}}" data-key-id="{{id}}" data-status="{{status}}">
            <td data-label="Name"><a href="/dashboard/api-keys/{{id}}">{{name}}</a></td>
            <td data-label="Role">{{role}}</td>
            <td data-label="Key"><code>{{hint}}</code></td>
            <td data-label="Created"><time datetime="{{createdAt}}">{{createdText}}</time></td>
            <td data-label="Last used">{{lastUsedText}}</td>
            <td data-label="Expires">{{expiresText}}</td>
            <td data-label="Status"><span class="status {{status}}">{{status}}</span></td>
          </tr>
          {{/keys}}
          {{^keys}}<tr><td colspan="7">No keys yet.</td></tr>{{/keys}}
          </tbody>
        </table>
        </div>
        {{#nextCursor}}<p><a href="/dashboard/api-keys?cursor={{.}}">Older keys</a></p>{{/nextCursor}}

        <section class="card" aria-labelledby="create-heading">
        <h2 id="create-heading">Create a key</h2>
        <form method="post" action="/dashboard/api-keys" novalidate>
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          {{#nameField}}{{>field}}{{/nameField}}
          <div class="field{{#roleError}} invalid{{/roleError}}">
            <label for="role">Role</label>
            <select id="role" name="role"{{#roleError}} aria-invalid="true" aria-describedby="role-error"{{/roleError}}>
              {{#roles}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/roles}}
            </select>
            {{#roleError}}<p class="error" id="role-error">{{.}}</p>{{/roleError}}
          </div>
          <div class="field{{#expiryError}} invalid{{/expiryError}}">
            <label for="expires_in_days">Expires</label>
            <select id="expires_in_days" name="expires_in_days"{{#expiryError}} aria-invalid="true" aria-describedby="expires-error"{{/expiryError}}>
              {{#expiries}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/expiries}}
            </select>
            {{#expiryError}}<p class="error" id="expires-error">{{.}}</p>{{/expiryError}}
          </div>
          <div class="field{{#ipsError}} invalid{{/ipsError}}">
            <label for="allowed_ips">Allowed IP addresses (optional)</label>
            <p class="hint" id="allowed_ips-hint">CIDRs or addresses, IPv4 or IPv6, separated by commas, e.g. 203.0.113.0/24, 2001:db8::/32. Empty: any address.</p>
            <input id="allowed_ips" name="allowed_ips" type="text" value="{{ipsValue}}" autocomplete="off" spellcheck="false"{{#ipsError}} aria-invalid="true" aria-describedby="allowed_ips-error"{{/ipsError}}{{^ipsError}} aria-describedby="allowed_ips-hint"{{/ipsError}}>
            {{#ipsError}}<p class="error" id="allowed_ips-error">{{.}}</p>{{/ipsError}}
          </div>
          <button type="submit" id="create-key">Create key</button>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    static let secret = """
        {{<layout}}{{$content}}
        <section class="card">
        <h1>{{heading}}</h1>
        <p class="warning" role="alert"><strong>Copy this secret now.</strong> It is shown only once: the server keeps only a digest of it and cannot show it again.</p>
        <div class="secret-box">
          <label for="secret">Secret of <strong>{{name}}</strong> ({{role}}, <code>{{keyID}}</code>)</label>
          <input id="secret" type="text" readonly value="{{secret}}" spellcheck="false" autocomplete="off">
          <button type="button" class="copy" data-copy="secret" hidden>Copy</button>
          <span class="copied" role="status" aria-live="polite"></span>
        </div>
        {{#graceUntil}}<p>The previous secret keeps working until <time datetime="{{.}}">{{graceText}}</time>.</p>{{/graceUntil}}
        <p>Send it as <code>X-API-Key: …</code> or <code>Authorization: Bearer …</code>.</p>
        <p><a href="{{continueURL}}" id="continue">{{continueLabel}}</a></p>
        </section>
        {{/content}}{{/layout}}
        """

    static let key = """
        {{<layout}}{{$content}}
        <p><a href="/dashboard/api-keys">← API keys</a></p>
        <h1>{{name}}</h1>
        <dl class="facts" id="key-facts" data-key-id="{{id}}" data-status="{{status}}">
          <div><dt>Key id</dt><dd><code>{{id}}</code></dd></div>
          <div><dt>Role</dt><dd>{{role}}</dd></div>
          <div><dt>Key</dt><dd><code>{{hint}}</code></dd></div>
          <div><dt>Status</dt><dd><span class="status {{status}}">{{status}}</span></dd></div>
          <div><dt>Created</dt><dd>{{createdText}}</dd></div>
          <div><dt>Last used</dt><dd>{{lastUsedText}}{{#lastUsedFrom}} from {{.}}{{/lastUsedFrom}}</dd></div>
          <div><dt>Expires</dt><dd>{{expiresText}}</dd></div>
          <div><dt>Allowed from</dt><dd id="allowed-ips">{{#allowedIPs}}<code>{{.}}</code> {{/allowedIPs}}{{^allowedIPs}}Any address{{/allowedIPs}}</dd></div>
          {{#graceText}}<div><dt>Previous secret valid until</dt><dd>{{.}}</dd></div>{{/graceText}}
        </dl>
        {{#credits}}{{>credit-gauge}}{{/credits}}
        {{#chart}}
        <section class="card" aria-labelledby="usage-heading">
        <h2 id="usage-heading">Requests in the last 24 hours</h2>
        {{>chart}}
        </section>
        {{/chart}}
        {{#active}}
        <section class="card" aria-labelledby="regenerate-heading">
        <h2 id="regenerate-heading">Regenerate</h2>
        <p>Issues a new secret for the same key id. Choose how long the current secret keeps working, so deployed clients can switch over.</p>
        <form method="post" action="/dashboard/api-keys/{{id}}/regenerate">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <div class="field">
            <label for="grace_period_seconds">Old secret keeps working for</label>
            <select id="grace_period_seconds" name="grace_period_seconds">
              <option value="0">No time: stop at once</option>
              <option value="3600">1 hour</option>
              <option value="86400">24 hours</option>
              <option value="604800">7 days</option>
            </select>
          </div>
          <button type="submit" id="regenerate">Regenerate secret</button>
        </form>
        </section>
        <section class="card danger" aria-labelledby="revoke-heading">
        <h2 id="revoke-heading">Revoke</h2>
        <p>A revoked key is refused from the moment you confirm. This cannot be undone.</p>
        <p><a class="button danger" href="/dashboard/api-keys/{{id}}/revoke" id="revoke">Revoke this key…</a></p>
        </section>
        {{/active}}
        {{/content}}{{/layout}}
        """

    static let revoke = """
        {{<layout}}{{$content}}
        <section class="card narrow danger">
        <h1>Revoke {{name}}?</h1>
        <p>Key <code>{{hint}}</code> ({{role}}) will be refused by the API from the moment you confirm. This cannot be undone.</p>
        <form method="post" action="/dashboard/api-keys/{{id}}/revoke">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <button type="submit" class="danger" id="confirm-revoke">Revoke key</button>
          <a href="/dashboard/api-keys/{{id}}">Cancel</a>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    static let usage = """
        {{<layout}}{{$content}}
        <h1>Usage</h1>
        <p class="lead">Plan <strong>{{plan}}</strong>: {{planLimit}} requests per minute, shared by every key of tenant <code>{{tenantID}}</code>.</p>
        {{#hasQuota}}{{>quota-gauges}}{{/hasQuota}}
        <section class="card" aria-labelledby="tenant-usage">
        <h2 id="tenant-usage">All keys, last 24 hours</h2>
        {{#chart}}{{>chart}}{{/chart}}
        </section>
        <div class="table-wrap">
        <table id="key-usage">
          <caption>Per key, last 24 hours</caption>
          <thead><tr><th scope="col">Key</th><th scope="col">Admitted</th><th scope="col">Rate limited</th><th scope="col">Errors</th></tr></thead>
          <tbody>
          {{#perKey}}<tr data-key-id="{{id}}"><td data-label="Key"><a href="/dashboard/api-keys/{{id}}">{{name}}</a> <code>{{hint}}</code></td><td data-label="Admitted">{{admitted}}</td><td data-label="Rate limited">{{rateLimited}}</td><td data-label="Errors">{{errors}}</td></tr>{{/perKey}}
          {{^perKey}}<tr><td colspan="4">No keys yet.</td></tr>{{/perKey}}
          </tbody>
        </table>
        </div>
        <p id="usage-downloads"><a href="/dashboard/usage.csv?granularity=day" id="download-usage-csv" download>Download usage CSV</a> (per key and day, last 30 days) · <a href="/dashboard/usage.csv?granularity=hour" download>per hour, last 24 hours</a></p>
        <section class="card" aria-labelledby="sessions-heading">
        <h2 id="sessions-heading">Sessions</h2>
        <p>Signed in somewhere you no longer use? This signs this account out of every browser, this one included.</p>
        <form method="post" action="/dashboard/sign-out-everywhere">
          <input type="hidden" name="csrf_token" value="{{csrf}}">
          <button type="submit" class="danger" id="sign-out-everywhere">Sign out everywhere</button>
        </form>
        </section>
        {{/content}}{{/layout}}
        """

    /// The chart with its legend and totals, and the same numbers as a table for screen readers.
    static let chart = """
        <figure class="chart-figure">
        {{{svg}}}
        <figcaption>
          <ul class="legend" id="usage-totals">
            <li><span class="swatch admitted"></span> Admitted <strong id="total-admitted">{{admitted}}</strong></li>
            <li><span class="swatch rate-limited"></span> Rate limited <strong id="total-rate-limited">{{rateLimited}}</strong></li>
            <li><span class="swatch errors"></span> Errors <strong id="total-errors">{{errors}}</strong></li>
          </ul>
        </figcaption>
        </figure>
        <details>
          <summary>Hourly numbers</summary>
          <div class="table-wrap">
          <table>
            <thead><tr><th scope="col">Hour (UTC)</th><th scope="col">Admitted</th><th scope="col">Rate limited</th><th scope="col">Errors</th></tr></thead>
            <tbody>{{#hours}}<tr><td>{{label}}</td><td>{{admitted}}</td><td>{{rateLimited}}</td><td>{{errors}}</td></tr>{{/hours}}</tbody>
          </table>
          </div>
        </details>
        """

    static let message = """
        {{<layout}}{{$content}}
        <section class="card narrow">
        <h1>{{heading}}</h1>
        <p>{{text}}</p>
        <p><a href="{{linkURL}}">{{linkLabel}}</a></p>
        </section>
        {{/content}}{{/layout}}
        """
}

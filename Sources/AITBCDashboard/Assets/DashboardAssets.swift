import AITBCDomain
import Crypto
import Foundation

/// The dashboard's stylesheet and script, compiled in (no external fonts, scripts or CDNs, so the
/// pages work offline). Each has a content hash: pages link to `?v=<hash>`, so browsers may cache an
/// asset for a year and still see a new release at once.
struct DashboardAsset: Sendable {
    let contentType: String
    let body: String
    let etag: String

    init(contentType: String, body: String) {
        self.contentType = contentType
        self.body = body
        self.etag = "\"" + Hex.lowercase(SHA256.hash(data: Array(body.utf8)).prefix(8)) + "\""
    }

    static let stylesheet = DashboardAsset(contentType: "text/css; charset=utf-8", body: css)
    static let script = DashboardAsset(contentType: "text/javascript; charset=utf-8", body: js)

    static let byName: [String: DashboardAsset] = ["dashboard.css": stylesheet, "dashboard.js": script]

    /// Changes whenever either asset does.
    static let version = String((stylesheet.etag + script.etag).filter { $0 != "\"" }.prefix(12))

    static let css = """
        :root { --ink: #1b1f24; --muted: #4a5260; --line: #d0d4da; --bg: #f6f7f9; --card: #fff;
          --accent: #0b57d0; --danger: #b71c1c; --ok: #2e7d32; --warn: #e65100; font-size: 16px; }
        * { box-sizing: border-box; }
        [hidden] { display: none !important; }
        body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink);
          background: var(--bg); line-height: 1.5; }
        a { color: var(--accent); }
        :focus-visible { outline: 3px solid #f9a825; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 8px; top: 8px; background: #fff; padding: 8px; z-index: 2; }
        .top { display: flex; flex-wrap: wrap; gap: 8px 24px; align-items: center; padding: 12px 16px;
          background: #fff; border-bottom: 1px solid var(--line); }
        .brand { font-weight: 700; text-decoration: none; color: var(--ink); }
        nav { display: flex; gap: 16px; }
        nav a[aria-current="page"] { font-weight: 700; text-decoration: none; }
        .sign-out { margin-left: auto; display: flex; gap: 8px; align-items: center; }
        .who { color: var(--muted); overflow-wrap: anywhere; }
        main { max-width: 1040px; margin: 0 auto; padding: 16px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin: 16px 0; }
        .card.narrow { max-width: 460px; margin: 32px auto; }
        .card.danger { border-color: #e6b3b3; }
        h1 { font-size: 1.6rem; margin: 8px 0 12px; }
        h2 { font-size: 1.2rem; margin: 0 0 8px; }
        .lead { color: var(--muted); }
        .field { margin: 0 0 14px; }
        label { display: block; font-weight: 600; margin-bottom: 4px; }
        input, select { width: 100%; max-width: 100%; font: inherit; padding: 8px 10px; border: 1px solid #8a919c;
          border-radius: 6px; background: #fff; }
        .invalid input, .invalid select { border-color: var(--danger); border-width: 2px; }
        .error { color: var(--danger); margin: 4px 0 0; font-weight: 600; }
        .hint { color: var(--muted); margin: 0 0 4px; font-size: .9rem; }
        button, .button { font: inherit; padding: 8px 16px; border-radius: 6px; border: 1px solid var(--accent);
          background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; display: inline-block; }
        button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
        button.danger, .button.danger { background: var(--danger); border-color: var(--danger); }
        .notice { background: #e8f5e9; border: 1px solid #a5d6a7; padding: 8px 12px; border-radius: 6px; }
        .problem { background: #fdecea; border: 1px solid #f5b7b1; padding: 8px 12px; border-radius: 6px; }
        .warning { background: #fff8e1; border: 1px solid #ffe082; padding: 8px 12px; border-radius: 6px; }
        .secret-box { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; }
        .secret-box label { flex-basis: 100%; }
        .secret-box input { flex: 1 1 280px; font-family: ui-monospace, Menlo, Consolas, monospace; }
        code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .92em; overflow-wrap: anywhere; }
        .table-wrap { overflow-x: auto; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
        caption { text-align: left; font-weight: 600; padding: 8px 0; }
        .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
        .status { padding: 2px 8px; border-radius: 10px; font-size: .85rem; background: #e8f5e9; color: var(--ok); }
        .status.revoked, .status.expired, .status.disabled, .status.failed { background: #fdecea; color: var(--danger); }
        .status.pending { background: #fff8e1; color: #7a5b00; }
        fieldset { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; }
        label.check { display: inline-flex; gap: 6px; align-items: center; font-weight: 400; margin: 0 16px 4px 0; }
        label.check input { width: auto; }
        .gauge { width: 100%; max-width: 320px; }
        .facts { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 8px 16px; }
        .facts dt { color: var(--muted); font-size: .9rem; }
        .facts dd { margin: 0; }
        .chart { width: 100%; height: auto; display: block; }
        .legend { list-style: none; display: flex; flex-wrap: wrap; gap: 16px; padding: 0; margin: 8px 0 0; }
        .swatch { display: inline-block; width: 12px; height: 12px; border-radius: 2px; vertical-align: middle; }
        .swatch.admitted { background: var(--ok); } .swatch.rate-limited { background: var(--warn); }
        .swatch.errors { background: var(--danger); }
        @media (max-width: 640px) {
          table.keys thead { position: absolute; left: -9999px; }
          table.keys tr { display: block; border-bottom: 2px solid var(--line); padding: 4px 0; }
          table.keys td { display: flex; justify-content: space-between; gap: 12px; border: none; padding: 4px 8px; }
          table.keys td::before { content: attr(data-label); font-weight: 600; color: var(--muted); }
          .sign-out { margin-left: 0; }
        }
        """

    /// Progressive enhancement only: the copy button. Every flow works without it.
    static let js = """
        document.querySelectorAll("button[data-copy]").forEach(function (button) {
          var field = document.getElementById(button.getAttribute("data-copy"));
          var status = button.parentElement.querySelector(".copied");
          if (!field) { return; }
          button.hidden = false;
          button.addEventListener("click", function () {
            var done = function () { if (status) { status.textContent = "Copied"; } };
            if (navigator.clipboard && window.isSecureContext) {
              navigator.clipboard.writeText(field.value).then(done, function () { field.select(); });
            } else {
              field.select();
              try { if (document.execCommand("copy")) { done(); } } catch (e) {}
            }
          });
        });
        """
}

extension PostgresMigrations {
    /// Per-key IP allow-lists: the canonical CIDRs separated by spaces, NULL for none.
    static let allowList = (
        version: 10,
        statements: ["ALTER TABLE api_keys ADD COLUMN allowed_ips TEXT"]
    )
}

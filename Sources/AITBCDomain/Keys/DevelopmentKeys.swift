import Foundation

/// Prepares a store on start: the development keys of `test-tenant`, or a first operator key.
public enum StoreBootstrap {
    /// The tenant development keys belong to.
    public static let developmentTenantID = "test-tenant"
    /// The tenant the first operator key belongs to.
    public static let systemTenantID = "system"

    /// The environment variable of each development key.
    public static let developmentVariables: [(variable: String, role: Role)] = [
        ("CLIENT_API_KEY", .client), ("MINER_API_KEY", .miner), ("MASTER_API_KEY", .master),
        ("OPERATOR_API_KEY", .operator),
    ]

    /// The id of the development key of `role`.
    public static func developmentKeyID(_ role: Role) -> String { "key_dev_\(role.rawValue)" }

    /// The name of the development key of `role`, which names its variable.
    public static func developmentKeyName(_ role: Role) -> String {
        let variable = developmentVariables.first { $0.role == role }?.variable ?? role.rawValue
        return "Development \(role.rawValue) key (\(variable))"
    }

    /// The digests of development keys (what the authenticator accepts without the generated shape).
    public static func developmentDigests(_ developmentKeys: [Role: String]) -> Set<APIKeyDigest> {
        Set(developmentKeys.values.map { APIKeyDigest(of: $0) })
    }

    /// Registers `developmentKeys` (role → verbatim secret) as keys of `test-tenant` on plan `plan`,
    /// reactivating them if they were revoked. Returns their digests.
    public static func registerDevelopmentKeys(
        _ developmentKeys: [Role: String], plan: String, store: any KeyStore & TenantStore, time: any TimeSource
    ) async throws -> Set<APIKeyDigest> {
        guard !developmentKeys.isEmpty else { return [] }
        let now = time.now()
        try await store.upsertTenant(
            Tenant(id: developmentTenantID, name: "Development tenant", plan: plan, createdAt: now))
        var digests = Set<APIKeyDigest>()
        for (role, secret) in developmentKeys.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            let digest = APIKeyDigest(of: secret)
            digests.insert(digest)
            let existing = try await store.key(id: developmentKeyID(role))
            try await store.upsertKey(
                APIKeyRecord(
                    id: developmentKeyID(role), tenantID: developmentTenantID, name: developmentKeyName(role),
                    role: role, scopes: nil, digest: digest, hint: APIKeyFormat.hint(for: secret),
                    createdAt: existing?.createdAt ?? now, metadata: ["development": true],
                    lastUsedAt: existing?.lastUsedAt, lastUsedFrom: existing?.lastUsedFrom))
        }
        return digests
    }

    /// On an empty store, creates the `system` tenant and one operator key and returns its secret
    /// (to be shown once); otherwise nil.
    public static func createFirstOperatorKeyIfEmpty(
        store: any KeyStore & TenantStore, time: any TimeSource, secrets: any SecretSource
    ) async throws -> String? {
        guard try await !store.hasAnyKey() else { return nil }
        let now = time.now()
        _ = try await store.insertTenant(
            Tenant(id: systemTenantID, name: "Deployment operators", plan: "enterprise", createdAt: now), event: nil)
        let secret = APIKeyFormat.generate(role: .operator, using: secrets)
        let record = APIKeyRecord(
            id: "key_" + secrets.base62(count: 20), tenantID: systemTenantID, name: "First operator key",
            role: .operator, scopes: nil, digest: APIKeyDigest(of: secret), hint: APIKeyFormat.hint(for: secret),
            createdAt: now)
        let event = AuditEvent(
            id: "evt_" + secrets.base62(count: 20), kind: .keyCreated, tenantID: systemTenantID, actorKeyID: nil,
            targetID: record.id, createdAt: now, data: ["name": .string(record.name), "role": "operator"])
        try await store.insertKey(record, event: event)
        return secret
    }
}

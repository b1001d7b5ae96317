import AITBCDomain
import AITBCWire
import Foundation
import HTTPTypes
import Hummingbird

/// The API-key routes: create, list, get, change, revoke, regenerate, usage; and the audit log.
struct APIKeyController {
    let keys: KeyService
    let time: any TimeSource

    func addRoutes(to group: RouterGroup<AuthenticatedRequestContext>) {
        group.on("api-keys", method: .post) { request, context in
            var request = request
            let body = try await request.decodeJSON(CreateAPIKeyRequest.self, context: context)
            let issued = try await keys.create(
                NewKeyRequest(
                    name: body.name, role: body.role, scopes: body.scopes, expiresAt: body.expiresAt,
                    rateLimitPerMinute: body.rateLimitPerMinute, metadata: body.metadata, tenantID: body.tenantID,
                    credits: body.credits, allowedIPs: body.allowedIPs),
                by: context.principal)
            return JSONResponse.makeWithSecret(status: .created, try await view(issued.record, secret: issued.secret))
        }
        group.on("api-keys", method: .get) { request, context in
            let page = try PageRequest(request)
            let records = try await keys.list(by: context.principal, after: page.cursor, limit: page.fetchLimit)
            let shown = page.page(records) { ListCursor(createdAtMilliseconds: $0.createdAt.unixMilliseconds, id: $0.id) }
            var items: [APIKeyView] = []
            for record in shown.items { items.append(try await view(record)) }
            return JSONResponse.make(Page(items: items, nextCursor: shown.next))
        }
        group.on("api-keys/{key_id}", method: .get) { request, context in
            let record = try await keys.get(try request.parameter("key_id", in: context), by: context.principal)
            return JSONResponse.make(try await view(record))
        }
        group.on("api-keys/{key_id}", method: .patch) { request, context in
            var request = request
            let id = try request.parameter("key_id", in: context)
            let body = try await request.decodeJSON(UpdateAPIKeyRequest.self, context: context)
            let record = try await keys.update(id, body, by: context.principal)
            return JSONResponse.make(try await view(record))
        }
        group.on("api-keys/{key_id}", method: .delete) { request, context in
            let record = try await keys.revoke(try request.parameter("key_id", in: context), by: context.principal)
            return JSONResponse.make(record.view(at: time.now()))
        }
        group.on("api-keys/{key_id}/regenerate", method: .post) { request, context in
            var request = request
            let id = try request.parameter("key_id", in: context)
            let body = try await request.decodeJSON(
                RegenerateAPIKeyRequest.self, context: context, empty: RegenerateAPIKeyRequest())
            let issued = try await keys.regenerate(
                id, gracePeriodSeconds: body.gracePeriodSeconds ?? 0, by: context.principal)
            return JSONResponse.makeWithSecret(issued.record.view(at: time.now(), secret: issued.secret))
        }
        group.on("api-keys/{key_id}/usage", method: .get) { request, context in
            let usage = try await keys.usage(of: try request.parameter("key_id", in: context), by: context.principal)
            return JSONResponse.make(Self.view(of: usage, now: time.now()))
        }
        group.on("audit-events", method: .get) { request, context in
            let page = try PageRequest(request)
            let events = try await keys.auditEvents(by: context.principal, after: page.cursor, limit: page.fetchLimit)
            let shown = page.page(events) { ListCursor(createdAtMilliseconds: $0.createdAt.unixMilliseconds, id: $0.id) }
            return JSONResponse.make(Page(items: shown.items.map(\.view), nextCursor: shown.next))
        }
    }

    /// The wire form of `record` now, with its credit balance when it spends credits.
    func view(_ record: APIKeyRecord, secret: String? = nil) async throws -> APIKeyView {
        let credits = record.credits == nil ? nil : try await keys.meters?.balance(of: record)
        return record.view(at: time.now(), secret: secret, credits: credits)
    }

    /// Minutes of the last hour, hours of the last day, and day totals.
    static func view(of usage: KeyUsage, now: Date) -> KeyUsageView {
        let nowSeconds = Int64(now.timeIntervalSince1970)
        let hourAgo = nowSeconds / 60 * 60 - 3600
        var hours: [Int64: UsageCounts] = [:]
        var totals = UsageCounts()
        var minutes: [UsageBucketView] = []
        for entry in usage.minutes {
            totals += entry.counts
            hours[entry.minute / 3600 * 3600, default: UsageCounts()] += entry.counts
            if entry.minute >= hourAgo { minutes.append(bucket(entry.minute, entry.counts)) }
        }
        return KeyUsageView(
            keyID: usage.record.id, lastUsedAt: usage.lastUse?.at, lastUsedFrom: usage.lastUse?.from,
            totals: bucket(nowSeconds / 60 * 60 - 24 * 3600, totals), minutes: minutes,
            hours: hours.sorted { $0.key < $1.key }.map { bucket($0.key, $0.value) })
    }

    static func bucket(_ start: Int64, _ counts: UsageCounts) -> UsageBucketView {
        UsageBucketView(
            start: Date(timeIntervalSince1970: TimeInterval(start)), admitted: counts.admitted,
            rateLimited: counts.rateLimited, errors: counts.errors)
    }
}

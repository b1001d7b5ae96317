/// The columns webhook queries read, the same on both backends (`e` endpoints, `d` deliveries, `ev` events).
enum WebhookColumns {
    static let endpointDetails = """
        e.url, e.events, e.description, e.secret, e.previous_secret, e.previous_secret_valid_until, \
        e.created_at AS endpoint_created_at, e.disabled_at, e.failing_since
        """
    static let endpoint = "e.id AS endpoint_id, e.tenant_id, " + endpointDetails
    static let delivery = """
        d.id, d.event_id, d.endpoint_id, d.tenant_id, d.event_type, d.status, d.attempts, d.last_status_code, \
        d.last_latency_ms, d.last_error, d.next_attempt_at, d.created_at, d.delivered_at, d.log
        """
    /// A claimed delivery with its event and endpoint.
    static let claimed = delivery + ", ev.created_at AS event_created_at, ev.data AS event_data, " + endpointDetails
    static let claimedFrom = """
        webhook_deliveries d JOIN webhook_events ev ON ev.id = d.event_id JOIN webhook_endpoints e ON e.id = d.endpoint_id
        """
}

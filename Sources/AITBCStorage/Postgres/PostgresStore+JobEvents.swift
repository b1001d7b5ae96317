import AITBCDomain
import PostgresNIO

extension PostgresStore {
    /// The batched job update of `PostgresStore+JobUpdates.swift` when some rows carry a webhook
    /// event: the same compare-and-set, and in the same statement (so the same commit) each winning
    /// row's event and a delivery to each enabled endpoint of its tenant subscribed to the type.
    static func appliedWithEvents(_ document: String, on database: PostgresDatabase) async throws -> Set<String> {
        try await database.withSession { session in
            Set(
                try await session.rows(
                    """
                    WITH u AS (
                        SELECT * FROM jsonb_to_recordset(\(document)::jsonb) AS u(
                            id text, state text, assigned_miner_id text, started_at bigint, finished_at bigint, result text,
                            receipt text, error_code text, error_message text, metrics text, attempts bigint, expected text,
                            attempt bigint, tenant_id text, event_id text, event_type text, event_at bigint, event_data text)
                    ), updated AS (
                        UPDATE jobs SET state = u.state, assigned_miner_id = u.assigned_miner_id,
                        started_at = TIMESTAMPTZ 'epoch' + u.started_at * INTERVAL '1 millisecond',
                        finished_at = TIMESTAMPTZ 'epoch' + u.finished_at * INTERVAL '1 millisecond',
                        result = u.result, receipt = u.receipt, error_code = u.error_code, error_message = u.error_message,
                        metrics = u.metrics, attempts = u.attempts
                        FROM u WHERE jobs.id = u.id AND jobs.state = ANY(string_to_array(u.expected, ','))
                        AND (u.attempt IS NULL OR jobs.attempts = u.attempt)
                        RETURNING jobs.id
                    ), events AS (
                        INSERT INTO webhook_events (id, tenant_id, type, created_at, data)
                        SELECT u.event_id, u.tenant_id, u.event_type, TIMESTAMPTZ 'epoch' + u.event_at * INTERVAL '1 millisecond',
                        u.event_data FROM u JOIN updated ON updated.id = u.id WHERE u.event_id IS NOT NULL
                        RETURNING id, tenant_id, type, created_at
                    ), deliveries AS (
                        INSERT INTO webhook_deliveries (id, event_id, endpoint_id, tenant_id, event_type, status, attempts,
                        next_attempt_at, created_at, log)
                        SELECT 'dlv_' || substr(ev.id, 5) || substr(e.id, 4), ev.id, e.id, ev.tenant_id, ev.type, 'pending', 0,
                        ev.created_at, ev.created_at, '[]'
                        FROM events ev JOIN webhook_endpoints e ON e.tenant_id = ev.tenant_id AND e.disabled_at IS NULL
                        AND (' ' || e.events || ' ') LIKE ('% ' || ev.type || ' %')
                    )
                    SELECT id FROM updated
                    """
                ).map { try $0.decode(String.self) })
        }
    }
}

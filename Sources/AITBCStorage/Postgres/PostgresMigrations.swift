/// The versioned schema of the PostgreSQL store: the same versions as ``SQLiteMigrations``, in
/// PostgreSQL's types (`timestamptz` for instants, `bytea` for digests, `bigint` for counts; JSON
/// stays `text`, as on SQLite, so payloads round-trip byte for byte). Ids compare bytewise
/// (`COLLATE "C"`), as SQLite's do, so listings order ties alike whatever the database's locale.
/// Each entry is applied once, in order, at start.
enum PostgresMigrations {
    static let all = core + features

    /// Each feature's migrations, from its own `Migrations+Feature.swift` (versions stay increasing).
    static let features: [(version: Int, statements: [String])] = [
        allowList, quotas, webhooks, meterAlerts, PortableMigrations.webhookRetention, webhookLastAttempt,
        PortableMigrations.meterGenerations,
    ]

    static let core: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE tenants (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL,
                    custom_rate_limit BIGINT,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX tenants_created ON tenants(created_at DESC, id DESC)",
                """
                CREATE TABLE api_keys (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    name TEXT NOT NULL,
                    role TEXT NOT NULL,
                    scopes TEXT,
                    digest BYTEA NOT NULL UNIQUE,
                    previous_digest BYTEA,
                    previous_valid_until TIMESTAMPTZ,
                    hint TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ,
                    revoked_at TIMESTAMPTZ,
                    rate_limit BIGINT,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    last_used_at TIMESTAMPTZ,
                    last_used_from TEXT
                )
                """,
                "CREATE INDEX api_keys_previous_digest ON api_keys(previous_digest) WHERE previous_digest IS NOT NULL",
                "CREATE INDEX api_keys_tenant_created ON api_keys(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX api_keys_created ON api_keys(created_at DESC, id DESC)",
                """
                CREATE TABLE key_usage (
                    key_id TEXT COLLATE "C" NOT NULL,
                    minute BIGINT NOT NULL,
                    admitted BIGINT NOT NULL DEFAULT 0,
                    rate_limited BIGINT NOT NULL DEFAULT 0,
                    errors BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (key_id, minute)
                )
                """,
                """
                CREATE TABLE audit_events (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    actor_key_id TEXT,
                    target_id TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    data TEXT NOT NULL DEFAULT '{}'
                )
                """,
                "CREATE INDEX audit_events_tenant_created ON audit_events(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX audit_events_created ON audit_events(created_at DESC, id DESC)",
            ]
        ),
        (
            2,
            [
                """
                CREATE TABLE jobs (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    client_key_id TEXT NOT NULL,
                    state TEXT NOT NULL,
                    payload TEXT NOT NULL,
                    constraints TEXT,
                    ttl_seconds BIGINT NOT NULL,
                    requested_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL,
                    assigned_miner_id TEXT,
                    started_at TIMESTAMPTZ,
                    finished_at TIMESTAMPTZ,
                    result TEXT,
                    receipt TEXT,
                    error_code TEXT,
                    error_message TEXT,
                    metrics TEXT,
                    attempts BIGINT NOT NULL DEFAULT 0,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX jobs_tenant_created ON jobs(tenant_id, created_at DESC, id DESC)",
                "CREATE INDEX jobs_tenant_state_created ON jobs(tenant_id, state, created_at DESC, id DESC)",
                "CREATE INDEX jobs_active ON jobs(state, requested_at) WHERE state IN ('QUEUED', 'RUNNING')",
                """
                CREATE TABLE miners (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    capabilities TEXT NOT NULL,
                    concurrency BIGINT NOT NULL,
                    region TEXT,
                    status TEXT NOT NULL,
                    inflight BIGINT NOT NULL DEFAULT 0,
                    metadata TEXT NOT NULL DEFAULT '{}',
                    registered_at TIMESTAMPTZ NOT NULL,
                    last_seen_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (tenant_id, id)
                )
                """,
                """
                CREATE TABLE idempotency_keys (
                    tenant_id TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_digest BYTEA NOT NULL,
                    job_id TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    PRIMARY KEY (tenant_id, key)
                )
                """,
            ]
        ),
        (
            3,
            [
                """
                CREATE TABLE accounts (
                    id TEXT COLLATE "C" PRIMARY KEY,
                    email TEXT NOT NULL UNIQUE,
                    password_hash TEXT NOT NULL,
                    tenant_id TEXT NOT NULL REFERENCES tenants(id),
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                """
                CREATE TABLE dashboard_sessions (
                    digest BYTEA PRIMARY KEY,
                    account_id TEXT NOT NULL REFERENCES accounts(id),
                    csrf_token TEXT NOT NULL,
                    created_at TIMESTAMPTZ NOT NULL,
                    expires_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE INDEX dashboard_sessions_account ON dashboard_sessions(account_id)",
                "CREATE INDEX dashboard_sessions_expiry ON dashboard_sessions(expires_at)",
            ]
        ),
        (
            // Rate budgets shared by every instance, and the one statement that decides a batch of
            // requests (see ``PostgresRateLimit``): the same GCRA as ``RateLimiter``, on the database's clock.
            4,
            [
                """
                CREATE TABLE rate_budgets (
                    name TEXT PRIMARY KEY,
                    tat BIGINT NOT NULL,
                    per_minute INTEGER NOT NULL
                )
                """,
                admitFunction,
            ]
        ),
        (
            // Budgets that are full again are deleted now and then (a missing row is a full budget),
            // so the table holds only budgets in use, not every address that ever failed to sign
            // in; `aitbc_admit` now locks the rows it charges even when a deletion races its insert.
            5,
            [admitFunction]
        ),
        (
            // Retention: usage rolled up per hour, and the indexes that find what is past its age
            // without a scan (see ``PostgresStore``'s retention batches).
            6,
            [
                """
                CREATE TABLE key_usage_hours (
                    key_id TEXT COLLATE "C" NOT NULL,
                    hour BIGINT NOT NULL,
                    admitted BIGINT NOT NULL DEFAULT 0,
                    rate_limited BIGINT NOT NULL DEFAULT 0,
                    errors BIGINT NOT NULL DEFAULT 0,
                    PRIMARY KEY (key_id, hour)
                )
                """,
                "CREATE INDEX key_usage_hours_hour ON key_usage_hours(hour)",
                "CREATE INDEX key_usage_minute ON key_usage(minute)",
                """
                CREATE INDEX jobs_finished ON jobs(finished_at)
                WHERE state IN ('COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED')
                """,
                "CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at)",
            ]
        ),
        (
            // `aitbc_admit` may be told the time (a test's injected clock); without it, it reads the
            // database's clock as before. One function with a default, so that an instance of the
            // version before, calling it with five arguments, still finds it.
            7,
            [
                "DROP FUNCTION IF EXISTS aitbc_admit(TEXT, INTEGER, TEXT, INTEGER, INTEGER)",
                admitFunctionTold,
            ]
        ),
        (
            // Receipt signing keys: the public key of every key ever used, and the one generated key's
            // seed, which every instance shares (a configured key's seed is never stored).
            8,
            [
                """
                CREATE TABLE receipt_keys (
                    key_id TEXT COLLATE "C" PRIMARY KEY,
                    generated BOOLEAN NOT NULL,
                    seed_hex TEXT,
                    created_at TIMESTAMPTZ NOT NULL
                )
                """,
                "CREATE UNIQUE INDEX receipt_keys_one_generated ON receipt_keys(generated) WHERE generated",
            ]
        ),
        (
            // Budget leases: an instance takes a slice of a budget in one call and gives back what it
            // did not spend (see ``PostgresLeaseFunctions``); `aitbc_admit` stays for instances of the
            // versions before.
            9,
            [PostgresLeaseFunctions.lease, PostgresLeaseFunctions.giveBack]
        ),
    ]

    /// ``admitFunction`` with a sixth argument, the time in Unix nanoseconds; NULL reads the database's clock.
    static let admitFunctionTold = admitFunction
        .replacingOccurrences(of: "wanted INTEGER)", with: "wanted INTEGER, at_ns BIGINT DEFAULT NULL)")
        .replacingOccurrences(
            of: "clock_ns BIGINT := (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000;",
            with: "clock_ns BIGINT := COALESCE(at_ns, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000);")

    /// The one statement that decides a batch of requests for one or two budgets (see
    /// ``PostgresRateLimit``): the same GCRA as ``RateLimiter``, on the database's clock.
    static let admitFunction = #"""
        CREATE OR REPLACE FUNCTION aitbc_admit(
            name1 TEXT, limit1 INTEGER, name2 TEXT, limit2 INTEGER, wanted INTEGER)
        RETURNS TABLE (admitted INTEGER, binding INTEGER, lim INTEGER, room INTEGER, base_ns BIGINT,
            interval_ns BIGINT, capacity_ns BIGINT, now_ns BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE
            window_ns CONSTANT BIGINT := 60000000000;
            clock_ns BIGINT := (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000;
            names TEXT[];
            limits INTEGER[];
            bases BIGINT[] := ARRAY[]::BIGINT[];
            i INTEGER;
            per_minute_i INTEGER;
            stored RECORD;
            arrival BIGINT;
            step BIGINT;
            cap BIGINT;
            base BIGINT;
            room_i INTEGER;
            best INTEGER := 0;
            best_room INTEGER;
            best_base BIGINT;
            take INTEGER;
            locked INTEGER;
        BEGIN
            IF name2 IS NULL THEN
                names := ARRAY[name1];
                limits := ARRAY[GREATEST(1, limit1)];
            ELSE
                names := ARRAY[name1, name2];
                limits := ARRAY[GREATEST(1, limit1), GREATEST(1, limit2)];
            END IF;
            -- A budget seen for the first time starts full; creating its row first makes
            -- concurrent first requests queue on the row lock below instead of both finding nothing.
            -- A full budget's row may be deleted between the two statements (see migration 5):
            -- then it is created again, until every row is there and locked.
            LOOP
                INSERT INTO rate_budgets (name, tat, per_minute)
                    SELECT n, 0, l FROM unnest(names, limits) AS t(n, l) ORDER BY n
                    ON CONFLICT (name) DO NOTHING;
                SELECT count(*) INTO locked FROM (
                    SELECT 1 FROM rate_budgets WHERE name = ANY(names) ORDER BY name FOR UPDATE) AS l;
                EXIT WHEN locked = (SELECT count(DISTINCT n) FROM unnest(names) AS n);
            END LOOP;
            FOR i IN 1..array_length(names, 1) LOOP
                per_minute_i := limits[i];
                SELECT r.tat, r.per_minute INTO stored FROM rate_budgets r WHERE r.name = names[i];
                arrival := stored.tat;
                -- Charged under another limit: carry the outstanding requests over at the new rate.
                IF stored.per_minute <> per_minute_i AND stored.tat > clock_ns THEN
                    arrival := clock_ns + ((stored.tat - clock_ns)::FLOAT8 * GREATEST(1, stored.per_minute)
                        / window_ns * (window_ns / per_minute_i))::BIGINT;
                END IF;
                step := window_ns / per_minute_i;
                cap := step * per_minute_i;
                base := GREATEST(arrival, clock_ns);
                -- How many requests fit now: each takes one step, and the budget may run `cap` ahead.
                room_i := GREATEST(0, (cap - (base - clock_ns)) / step)::INTEGER;
                bases := bases || base;
                IF best = 0 OR room_i < best_room OR (room_i = best_room AND per_minute_i < limits[best]) THEN
                    best := i;
                    best_room := room_i;
                    best_base := base;
                END IF;
            END LOOP;
            take := LEAST(wanted, best_room);
            IF take > 0 THEN
                FOR i IN 1..array_length(names, 1) LOOP
                    UPDATE rate_budgets SET tat = bases[i] + take * (window_ns / limits[i]), per_minute = limits[i]
                    WHERE name = names[i];
                END LOOP;
            END IF;
            RETURN QUERY SELECT take, best, limits[best], best_room, best_base, window_ns / limits[best],
                (window_ns / limits[best]) * limits[best], clock_ns;
        END
        $$
        """#
}

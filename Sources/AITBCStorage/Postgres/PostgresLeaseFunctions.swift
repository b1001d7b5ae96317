/// The statements behind budget leases (see ``PostgresRateLimit``'s ``BudgetLeaseAuthority``
/// conformance): `aitbc_lease` decides a batch of requests and charges a slice ahead in one call,
/// `aitbc_return` gives unused units back. Same GCRA, rows locked in name order as `aitbc_admit`
/// does (which stays, for instances of the version before during a rolling upgrade).
enum PostgresLeaseFunctions {
    /// Decides `wanted` requests on one or two budgets, of which the instance already holds `have`
    /// units each: the first k that fit in every budget are admitted, and each budget is charged
    /// the units k needs beyond what is held; if all are admitted, each is also charged up to `extra`
    /// units ahead, as far as it has room. Returns what each budget was charged, its room after,
    /// its arrival time after and its interval, and which budget bound the batch.
    static let lease = #"""
        CREATE OR REPLACE FUNCTION aitbc_lease(
            name1 TEXT, limit1 INTEGER, have1 INTEGER, extra1 INTEGER,
            name2 TEXT, limit2 INTEGER, have2 INTEGER, extra2 INTEGER,
            wanted INTEGER, at_ns BIGINT DEFAULT NULL)
        RETURNS TABLE (admitted INTEGER, binding INTEGER,
            charged1 INTEGER, room1 INTEGER, tat1 BIGINT, step1 BIGINT,
            charged2 INTEGER, room2 INTEGER, tat2 BIGINT, step2 BIGINT, now_ns BIGINT)
        LANGUAGE plpgsql AS $$
        DECLARE
            window_ns CONSTANT BIGINT := 60000000000;
            clock_ns BIGINT := COALESCE(at_ns, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000);
            names TEXT[];
            limits INTEGER[];
            haves INTEGER[];
            extras INTEGER[];
            bases BIGINT[] := ARRAY[]::BIGINT[];
            rooms INTEGER[] := ARRAY[]::INTEGER[];
            charges INTEGER[] := ARRAY[]::INTEGER[];
            i INTEGER;
            stored RECORD;
            arrival BIGINT;
            step BIGINT;
            cap BIGINT;
            base BIGINT;
            room_i INTEGER;
            fit INTEGER;
            best INTEGER := 0;
            best_fit INTEGER;
            take INTEGER;
            charge INTEGER;
            locked INTEGER;
        BEGIN
            IF name2 IS NULL THEN
                names := ARRAY[name1];
                limits := ARRAY[GREATEST(1, limit1)];
                haves := ARRAY[GREATEST(0, have1)];
                extras := ARRAY[GREATEST(0, extra1)];
            ELSE
                names := ARRAY[name1, name2];
                limits := ARRAY[GREATEST(1, limit1), GREATEST(1, limit2)];
                haves := ARRAY[GREATEST(0, have1), GREATEST(0, have2)];
                extras := ARRAY[GREATEST(0, extra1), GREATEST(0, extra2)];
            END IF;
            LOOP
                INSERT INTO rate_budgets (name, tat, per_minute)
                    SELECT n, 0, l FROM unnest(names, limits) AS t(n, l) ORDER BY n
                    ON CONFLICT (name) DO NOTHING;
                SELECT count(*) INTO locked FROM (
                    SELECT 1 FROM rate_budgets WHERE name = ANY(names) ORDER BY name FOR UPDATE) AS l;
                EXIT WHEN locked = (SELECT count(DISTINCT n) FROM unnest(names) AS n);
            END LOOP;
            FOR i IN 1..array_length(names, 1) LOOP
                SELECT r.tat, r.per_minute INTO stored FROM rate_budgets r WHERE r.name = names[i];
                arrival := stored.tat;
                -- Charged under another limit: carry the outstanding requests over at the new rate.
                IF stored.per_minute <> limits[i] AND stored.tat > clock_ns THEN
                    arrival := clock_ns + ((stored.tat - clock_ns)::FLOAT8 * GREATEST(1, stored.per_minute)
                        / window_ns * (window_ns / limits[i]))::BIGINT;
                END IF;
                step := window_ns / limits[i];
                cap := step * limits[i];
                base := GREATEST(arrival, clock_ns);
                room_i := GREATEST(0, (cap - (base - clock_ns)) / step)::INTEGER;
                bases := bases || base;
                rooms := rooms || room_i;
                fit := haves[i] + room_i;
                IF best = 0 OR fit < best_fit OR (fit = best_fit AND limits[i] < limits[best]) THEN
                    best := i;
                    best_fit := fit;
                END IF;
            END LOOP;
            take := LEAST(wanted, best_fit);
            FOR i IN 1..array_length(names, 1) LOOP
                step := window_ns / limits[i];
                charge := GREATEST(0, take - haves[i]);
                IF take = wanted THEN
                    charge := charge + LEAST(extras[i], rooms[i] - charge);
                END IF;
                charges := charges || charge;
                IF charge > 0 THEN
                    UPDATE rate_budgets SET tat = bases[i] + charge * step, per_minute = limits[i] WHERE name = names[i];
                END IF;
            END LOOP;
            RETURN QUERY SELECT take, best,
                charges[1], rooms[1] - charges[1], bases[1] + charges[1] * (window_ns / limits[1]), window_ns / limits[1],
                charges[2], rooms[2] - charges[2], bases[2] + charges[2] * (window_ns / limits[2]), window_ns / limits[2],
                clock_ns;
        END
        $$
        """#

    /// Gives unused units back to their budgets, in name order (as the rows are locked elsewhere): each
    /// budget's arrival time moves back by the units, but only by those whose place (the lease's arrival
    /// time after its last charge, counted back) is still ahead of now — the others have refilled already.
    static let giveBack = #"""
        CREATE OR REPLACE FUNCTION aitbc_return(names TEXT[], units BIGINT[], tats BIGINT[], at_ns BIGINT DEFAULT NULL)
        RETURNS BIGINT
        LANGUAGE plpgsql AS $$
        DECLARE
            window_ns CONSTANT BIGINT := 60000000000;
            clock_ns BIGINT := COALESCE(at_ns, (extract(epoch FROM clock_timestamp()) * 1000000)::BIGINT * 1000);
            r RECORD;
            step BIGINT;
            back BIGINT;
            total BIGINT := 0;
        BEGIN
            FOR r IN SELECT t.n, t.u, t.g FROM unnest(names, units, tats) AS t(n, u, g) ORDER BY t.n LOOP
                SELECT window_ns / GREATEST(1, b.per_minute) INTO step FROM rate_budgets b WHERE b.name = r.n FOR UPDATE;
                CONTINUE WHEN step IS NULL;
                back := LEAST(r.u, GREATEST(0, (r.g - clock_ns) / step));
                IF back > 0 THEN
                    UPDATE rate_budgets SET tat = tat - back * step WHERE name = r.n;
                    total := total + back;
                END IF;
            END LOOP;
            RETURN total;
        END
        $$
        """#
}

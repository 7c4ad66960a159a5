-- 0002_usage: raw usage events (partitioned by month), exactly-once keys, hourly rollup.
--
-- Writing usage: the contract
--   An event counts once forever per (account_id, idempotency_key). A unique index on
--   usage_events cannot enforce that (a unique index on a partitioned table must contain
--   the partition key), so writers, in ONE transaction:
--     1. INSERT INTO usage_event_keys (...) VALUES ... ON CONFLICT DO NOTHING RETURNING
--        idempotency_key  -- the returned keys are the events that are new;
--     2. INSERT (or COPY) only those events INTO usage_events -- the parent table, never a
--        partition directly, so the rollup trigger sees them.
--   A replayed key whose stored meter/quantity/occurred_at differ from the new request is
--   a reused key, which the writer can report as such.
--   Events are append-only. UPDATE and DELETE through the parent keep usage_hourly exact
--   (the affected hours are recomputed) but are meant for repairs, not for traffic.
--   Retention detaches and drops whole partitions; usage_hourly is kept.
--   Referential integrity is checked once per (account, meter, hour) by usage_hourly's
--   foreign keys, inside the same statement, not once per event.
--
-- Reading usage: series come from usage_hourly (UTC hours). A range that starts or ends
-- off the hour needs the raw events (indexed by account, meter, time) for its partial hours;
-- the seeded subscriptions all start on whole hours.
--
-- Partitions: the migration creates months around its own run; whoever runs the service
-- calls ensure_usage_partitions(now(), now() + interval '3 months') regularly (e.g. at
-- start-up). Events of a month without a partition land in usage_events_default and are
-- moved into the month's partition when it is created.

CREATE TABLE usage_events (
    account_id       text          NOT NULL,
    meter_id         text          NOT NULL,
    quantity         numeric(24,6) NOT NULL CHECK (quantity >= 0),
    occurred_at      timestamptz   NOT NULL,
    idempotency_key  text          NOT NULL,
    recorded_at      timestamptz   NOT NULL DEFAULT now()
) PARTITION BY RANGE (occurred_at);

CREATE TABLE usage_events_default PARTITION OF usage_events DEFAULT;

CREATE INDEX usage_events_account_meter_idx ON usage_events (account_id, meter_id, occurred_at);

CREATE TABLE usage_event_keys (
    account_id       text          NOT NULL,
    idempotency_key  text          NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    meter_id         text          NOT NULL,
    quantity         numeric(24,6) NOT NULL,
    occurred_at      timestamptz   NOT NULL,
    PRIMARY KEY (account_id, idempotency_key)
);

CREATE TABLE usage_hourly (
    account_id    text          NOT NULL REFERENCES accounts (id),
    meter_id      text          NOT NULL REFERENCES meters (id),
    hour          timestamptz   NOT NULL CHECK (extract(epoch FROM hour) % 3600 = 0),
    quantity_sum  numeric(38,6) NOT NULL,
    quantity_max  numeric(24,6) NOT NULL,
    event_count   bigint        NOT NULL CHECK (event_count > 0),
    PRIMARY KEY (account_id, meter_id, hour)
);

-- Monthly partitions usage_events_pYYYYMM covering [from_ts, to_ts), UTC months.
-- Rows already in the DEFAULT partition for a new month are moved into it.
-- Returns the number of partitions created. Safe to call concurrently and repeatedly.
CREATE FUNCTION ensure_usage_partitions(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    month_start timestamp := date_trunc('month', from_ts AT TIME ZONE 'UTC');
    lower_ts    timestamptz;
    upper_ts    timestamptz;
    part_name   text;
    created     integer := 0;
BEGIN
    IF from_ts IS NULL OR to_ts IS NULL OR to_ts <= from_ts THEN
        RETURN 0;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('ensure_usage_partitions'));
    WHILE (month_start AT TIME ZONE 'UTC') < to_ts LOOP
        lower_ts := month_start AT TIME ZONE 'UTC';
        upper_ts := (month_start + interval '1 month') AT TIME ZONE 'UTC';
        part_name := 'usage_events_p' || to_char(month_start, 'YYYYMM');
        IF to_regclass(format('%I.%I', current_schema(), part_name)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE usage_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           part_name);
            EXECUTE format(
                'WITH moved AS (DELETE FROM usage_events_default
                                 WHERE occurred_at >= %L AND occurred_at < %L RETURNING *)
                 INSERT INTO %I SELECT * FROM moved', lower_ts, upper_ts, part_name);
            EXECUTE format('ALTER TABLE usage_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           part_name, lower_ts, upper_ts);
            created := created + 1;
        END IF;
        month_start := month_start + interval '1 month';
    END LOOP;
    RETURN created;
END
$$;

SELECT ensure_usage_partitions(now() - interval '3 months', now() + interval '4 months');

-- Rollup maintenance: one aggregate per statement over the transition table. Rows are
-- upserted in key order so concurrent writers lock shared hours in the same order.
CREATE FUNCTION usage_hourly_add() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO usage_hourly AS h
        (account_id, meter_id, hour, quantity_sum, quantity_max, event_count)
    SELECT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC'),
           sum(quantity), max(quantity), count(*)
      FROM new_rows
     GROUP BY 1, 2, 3
     ORDER BY 1, 2, 3
    ON CONFLICT (account_id, meter_id, hour) DO UPDATE
       SET quantity_sum = h.quantity_sum + excluded.quantity_sum,
           quantity_max = greatest(h.quantity_max, excluded.quantity_max),
           event_count  = h.event_count + excluded.event_count;
    RETURN NULL;
END
$$;

-- UPDATE/DELETE: recompute the touched hours from the raw events (a MAX cannot be undone
-- incrementally).
CREATE FUNCTION usage_hourly_refresh(account_ids text[], meter_ids text[], hours timestamptz[])
RETURNS void
LANGUAGE sql AS $$
    DELETE FROM usage_hourly h
     USING unnest(account_ids, meter_ids, hours) AS t (account_id, meter_id, hour)
     WHERE (h.account_id, h.meter_id, h.hour) = (t.account_id, t.meter_id, t.hour);
    INSERT INTO usage_hourly (account_id, meter_id, hour, quantity_sum, quantity_max, event_count)
    SELECT e.account_id, e.meter_id, t.hour, sum(e.quantity), max(e.quantity), count(*)
      FROM (SELECT DISTINCT * FROM unnest(account_ids, meter_ids, hours)) AS t (account_id, meter_id, hour)
      JOIN usage_events e
        ON e.account_id = t.account_id AND e.meter_id = t.meter_id
       AND e.occurred_at >= t.hour AND e.occurred_at < t.hour + interval '1 hour'
     GROUP BY e.account_id, e.meter_id, t.hour
     ORDER BY 1, 2, 3;
$$;

CREATE FUNCTION usage_hourly_recompute_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM usage_hourly_refresh(array_agg(account_id), array_agg(meter_id), array_agg(hour))
       FROM (SELECT DISTINCT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC') AS hour
               FROM old_rows) AS touched;
    RETURN NULL;
END
$$;

CREATE FUNCTION usage_hourly_recompute_update() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM usage_hourly_refresh(array_agg(account_id), array_agg(meter_id), array_agg(hour))
       FROM (SELECT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC') AS hour FROM old_rows
             UNION
             SELECT account_id, meter_id, date_trunc('hour', occurred_at, 'UTC') FROM new_rows) AS touched;
    RETURN NULL;
END
$$;

CREATE TRIGGER usage_events_rollup_insert
    AFTER INSERT ON usage_events
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_hourly_add();

CREATE TRIGGER usage_events_rollup_update
    AFTER UPDATE ON usage_events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_hourly_recompute_update();

CREATE TRIGGER usage_events_rollup_delete
    AFTER DELETE ON usage_events
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION usage_hourly_recompute_delete();

-- 0003_billing_time: what the billing engine needs to move subscriptions through time
-- exactly once, and the per-account event log every state change is written to.
--
-- Billing time is never read from PostgreSQL's clock here: the engine and the
-- mutations pass their instant (the gateway's one clock) as a parameter.

-- The status a subscription shows at an instant, once every boundary up to it is
-- processed (mirrors resolvers/lifecycle.py `status_at`; a test compares the two).
CREATE FUNCTION subscription_status_at(
    status text, cancel_at_period_end boolean, period_end timestamptz, at timestamptz)
RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN status NOT IN ('TRIALING', 'ACTIVE', 'PAST_DUE') OR at < period_end THEN status
        WHEN cancel_at_period_end THEN 'CANCELED'
        WHEN status = 'TRIALING' THEN 'ACTIVE'
        ELSE status
    END
$$;

-- A trial ends where its period ends, and periods start on whole UTC hours, so a
-- period's usage is an exact sum of usage_hourly rows.
ALTER TABLE subscriptions
    ADD CONSTRAINT subscriptions_trial_is_its_period
        CHECK (status <> 'TRIALING' OR trial_end = current_period_end),
    ADD CONSTRAINT subscriptions_whole_hours CHECK (
        extract(epoch FROM billing_anchor) % 3600 = 0
        AND extract(epoch FROM current_period_start) % 3600 = 0
        AND extract(epoch FROM current_period_end) % 3600 = 0);

-- The engine's queue: live subscriptions by the end of their stored period.
CREATE INDEX subscriptions_due_idx ON subscriptions (current_period_end, id)
    WHERE status IN ('TRIALING', 'ACTIVE', 'PAST_DUE');

-- The boundary an invoice was issued at (NULL for proration, correction and one-off
-- invoices): one invoice per subscription and boundary, whoever tries to issue it.
ALTER TABLE invoices ADD COLUMN boundary_at timestamptz;
CREATE UNIQUE INDEX invoices_one_per_boundary
    ON invoices (subscription_id, boundary_at) WHERE boundary_at IS NOT NULL;

-- Gapless invoice numbers per calendar year (UTC): a counter row per year, taken in
-- the issuing transaction, so a rolled-back invoice gives its number back (a sequence
-- would not). INV-<year>-<n, 6+ digits>, n from 1 each year.
CREATE TABLE invoice_number_counters (
    year         integer PRIMARY KEY CHECK (year BETWEEN 1 AND 9999),
    last_number  bigint  NOT NULL CHECK (last_number >= 0)
);
INSERT INTO invoice_number_counters (year, last_number)
SELECT substr(number, 5, 4)::integer, max(substr(number, 10)::bigint)
  FROM invoices GROUP BY 1;

CREATE OR REPLACE FUNCTION next_invoice_number(at timestamptz) RETURNS text
LANGUAGE sql VOLATILE AS $$
    INSERT INTO invoice_number_counters AS c (year, last_number)
    VALUES (extract(year FROM at AT TIME ZONE 'UTC')::integer, 1)
    ON CONFLICT (year) DO UPDATE SET last_number = c.last_number + 1
    RETURNING 'INV-' || lpad(c.year::text, 4, '0') || '-' || lpad(c.last_number::text, 6, '0')
$$;
DROP SEQUENCE invoice_number_seq;

-- When the engine recorded a grant's expiry (its event), exactly once.
ALTER TABLE entitlement_grants ADD COLUMN expiry_recorded_at timestamptz;
CREATE INDEX entitlement_grants_expiring_idx ON entitlement_grants (expires_at, id)
    WHERE expires_at IS NOT NULL AND expiry_recorded_at IS NULL;

-- The outbox: every state change appends an event in the transaction that makes it.
-- `seq` counts each account's events from 1 with no gaps, in commit order: it is taken
-- from the account's row in account_versions, whose lock the writer holds until it
-- commits, so a consumer that reads "seq > the last I saw" per account misses nothing
-- and sees nothing twice. The same counter is the account's data version.
CREATE TABLE account_versions (
    account_id  text   PRIMARY KEY REFERENCES accounts (id),
    version     bigint NOT NULL CHECK (version >= 1)
);

CREATE TABLE outbox_events (
    account_id   text        NOT NULL REFERENCES accounts (id),
    seq          bigint      NOT NULL CHECK (seq >= 1),
    type         text        NOT NULL CHECK (type ~ '^[a-z]+\.[a-z_]+$'),
    actor        text        NOT NULL CHECK (length(actor) BETWEEN 1 AND 255),
    object_id    text        NOT NULL,
    payload      jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL,
    PRIMARY KEY (account_id, seq)
);

CREATE FUNCTION append_event(
    account text, event_type text, actor text, object_id text, payload jsonb, at timestamptz)
RETURNS bigint
LANGUAGE sql VOLATILE AS $$
    WITH v AS (
        INSERT INTO account_versions AS v (account_id, version) VALUES (account, 1)
        ON CONFLICT (account_id) DO UPDATE SET version = v.version + 1
        RETURNING version)
    INSERT INTO outbox_events (account_id, seq, type, actor, object_id, payload, occurred_at)
    SELECT account, v.version, event_type, actor, object_id, payload, at FROM v
    RETURNING seq
$$;

-- The engine's partition step: months from `from_ts` (or the earliest month whose events
-- wait in the default partition) to `to_ts`. The advisory lock comes before the default
-- partition is read: ATTACH PARTITION needs that partition exclusively, so a concurrent
-- worker must not hold even a read lock on it while waiting for ours.
CREATE FUNCTION ensure_usage_partitions_ahead(from_ts timestamptz, to_ts timestamptz)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    earliest timestamptz;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('ensure_usage_partitions'));
    SELECT min(occurred_at) INTO earliest FROM usage_events_default;
    RETURN ensure_usage_partitions(least(from_ts, earliest), to_ts);
END
$$;

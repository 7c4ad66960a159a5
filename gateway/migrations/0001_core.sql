-- 0001_core: accounts, catalog, subscriptions, invoices, entitlements, idempotency.
--
-- Conventions
--   * ids are text "<prefix>_<opaque>" (the contract's global ids); a CHECK pins the prefix.
--   * money: amounts numeric(20,4), unit prices numeric(24,12), quantities numeric(24,6),
--     tax rates numeric(7,6); never float. Stored amounts are already rounded to the
--     currency's minor unit (round once per line, half-even: docs/money.md), which the CHECKs
--     below verify with currency_minor_units() and round_half_even().
--   * timestamps are timestamptz; enums are UPPER-case text with CHECKs (contract values).
--   * tenant tables carry account_id, and a composite foreign key keeps the denormalized
--     copy equal to the parent's, so any query can be scoped by account_id alone.

-- ISO 4217 minor units: 0 and 3 decimal currencies listed, everything else 2.
CREATE FUNCTION currency_minor_units(currency text) RETURNS integer
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT CASE
        WHEN currency IN ('BIF', 'CLP', 'DJF', 'GNF', 'ISK', 'JPY', 'KMF', 'KRW', 'PYG',
                          'RWF', 'UGX', 'UYI', 'VND', 'VUV', 'XAF', 'XOF', 'XPF') THEN 0
        WHEN currency IN ('BHD', 'IQD', 'JOD', 'KWD', 'LYD', 'OMR', 'TND') THEN 3
        ELSE 2
    END
$$;

-- Banker's rounding (PostgreSQL's round(numeric) rounds half away from zero).
CREATE FUNCTION round_half_even(value numeric, places integer) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT round(
        CASE
            WHEN abs(scaled - trunc(scaled)) = 0.5
                THEN trunc(scaled) + sign(scaled) * (abs(trunc(scaled)) % 2)
            ELSE round(scaled)
        END / (10::numeric ^ places),
        places)
    FROM (SELECT value * (10::numeric ^ places) AS scaled) AS s
$$;

CREATE TABLE partners (
    id          text        PRIMARY KEY CONSTRAINT partners_id_prefix CHECK (id ~ '^ptr_[0-9A-Za-z]{1,64}$'),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE accounts (
    id          text         PRIMARY KEY CONSTRAINT accounts_id_prefix CHECK (id ~ '^acct_[0-9A-Za-z]{1,64}$'),
    name        text         NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    currency    char(3)      NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    tax_rate    numeric(7,6) NOT NULL DEFAULT 0 CHECK (tax_rate >= 0 AND tax_rate < 1),
    partner_id  text         REFERENCES partners (id),
    created_at  timestamptz  NOT NULL DEFAULT now(),
    UNIQUE (id, currency)        -- target of (account_id, currency) foreign keys
);
-- Partner.accounts pages by id inside one partner.
CREATE INDEX accounts_partner_idx ON accounts (partner_id, id) WHERE partner_id IS NOT NULL;

CREATE TABLE plans (
    id          text          PRIMARY KEY CONSTRAINT plans_id_prefix CHECK (id ~ '^plan_[0-9A-Za-z]{1,64}$'),
    code        text          NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'),
    name        text          NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind        text          NOT NULL CHECK (kind IN ('BASE', 'ADDON')),
    interval    text          NOT NULL CHECK (interval IN ('MONTH', 'YEAR')),
    currency    char(3)       NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    amount      numeric(20,4) NOT NULL CHECK (amount >= 0),
    active      boolean       NOT NULL DEFAULT true,
    created_at  timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (id, kind, currency), -- target of (plan_id, plan_kind, currency) foreign keys
    CONSTRAINT plans_amount_minor_unit
        CHECK (amount = round(amount, currency_minor_units(currency)))
);

CREATE TABLE meters (
    id           text PRIMARY KEY CONSTRAINT meters_id_prefix CHECK (id ~ '^mtr_[0-9A-Za-z]{1,64}$'),
    key          text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    unit         text NOT NULL CHECK (length(unit) BETWEEN 1 AND 50),
    aggregation  text NOT NULL CHECK (aggregation IN ('SUM', 'MAX'))
);

-- Graduated usage pricing (docs/money.md): the first `included` units of the period are
-- free; then each unit is priced by the tier its position falls in. `up_to` is an
-- ABSOLUTE bound on the period's total usage (included 10M, tier 1 up_to 50M, tier 2
-- up_to NULL = unbounded); tiers are ordered by `position`, bounds ascending.
CREATE TABLE usage_prices (
    id        text          PRIMARY KEY CONSTRAINT usage_prices_id_prefix CHECK (id ~ '^up_[0-9A-Za-z]{1,64}$'),
    plan_id   text          NOT NULL REFERENCES plans (id),
    meter_id  text          NOT NULL REFERENCES meters (id),
    included  numeric(24,6) NOT NULL DEFAULT 0 CHECK (included >= 0),
    UNIQUE (plan_id, meter_id)
);

CREATE TABLE usage_price_tiers (
    usage_price_id  text           NOT NULL REFERENCES usage_prices (id) ON DELETE CASCADE,
    position        integer        NOT NULL CHECK (position >= 1),
    up_to           numeric(24,6)  CHECK (up_to > 0),
    unit_amount     numeric(24,12) NOT NULL CHECK (unit_amount >= 0),
    PRIMARY KEY (usage_price_id, position)
);
-- At most one unbounded tier per price.
CREATE UNIQUE INDEX usage_price_tiers_one_unbounded
    ON usage_price_tiers (usage_price_id) WHERE up_to IS NULL;

CREATE TABLE features (
    id        text PRIMARY KEY CONSTRAINT features_id_prefix CHECK (id ~ '^feat_[0-9A-Za-z]{1,64}$'),
    key       text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_.]{0,63}$'),
    name      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    kind      text NOT NULL CHECK (kind IN ('BOOLEAN', 'LIMIT', 'QUOTA')),
    meter_id  text REFERENCES meters (id),
    -- A QUOTA counts a meter's usage per billing period; the other kinds have no meter.
    CONSTRAINT features_quota_has_meter CHECK ((kind = 'QUOTA') = (meter_id IS NOT NULL))
);

-- limit_value NULL = unlimited (for LIMIT and QUOTA); BOOLEAN features use `enabled` only.
CREATE TABLE plan_entitlements (
    plan_id      text          NOT NULL REFERENCES plans (id),
    feature_id   text          NOT NULL REFERENCES features (id),
    enabled      boolean       NOT NULL DEFAULT true,
    limit_value  numeric(24,6) CHECK (limit_value >= 0),
    PRIMARY KEY (plan_id, feature_id)
);

CREATE TABLE subscriptions (
    id                    text        PRIMARY KEY CONSTRAINT subscriptions_id_prefix CHECK (id ~ '^sub_[0-9A-Za-z]{1,64}$'),
    account_id            text        NOT NULL,
    currency              char(3)     NOT NULL,
    plan_id               text        NOT NULL,
    -- Always 'BASE': with the foreign key below it makes "plan_id is a BASE plan in the
    -- account's currency" a database rule. Writers never set it.
    plan_kind             text        NOT NULL DEFAULT 'BASE' CHECK (plan_kind = 'BASE'),
    status                text        NOT NULL
        CHECK (status IN ('TRIALING', 'ACTIVE', 'PAST_DUE', 'PAUSED', 'CANCELED')),
    quantity              integer     NOT NULL DEFAULT 1 CHECK (quantity > 0),
    billing_anchor        timestamptz NOT NULL,
    current_period_start  timestamptz NOT NULL,
    current_period_end    timestamptz NOT NULL,
    cancel_at_period_end  boolean     NOT NULL DEFAULT false,
    canceled_at           timestamptz,
    trial_end             timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    -- Optimistic concurrency: every UPDATE sets version = version + 1 WHERE version = $seen.
    version               integer     NOT NULL DEFAULT 1 CHECK (version >= 1),
    UNIQUE (id, account_id, currency),  -- target of (subscription_id, account_id, currency) keys
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency),
    FOREIGN KEY (plan_id, plan_kind, currency) REFERENCES plans (id, kind, currency),
    CONSTRAINT subscriptions_period_order CHECK (current_period_end > current_period_start),
    CONSTRAINT subscriptions_canceled_has_time CHECK (status <> 'CANCELED' OR canceled_at IS NOT NULL),
    CONSTRAINT subscriptions_trialing_has_end CHECK (status <> 'TRIALING' OR trial_end IS NOT NULL),
    CONSTRAINT subscriptions_canceled_not_pending
        CHECK (NOT (status = 'CANCELED' AND cancel_at_period_end))
);
CREATE INDEX subscriptions_account_idx ON subscriptions (account_id, created_at DESC, id DESC);

CREATE TABLE subscription_items (
    id               text        PRIMARY KEY CONSTRAINT subscription_items_id_prefix CHECK (id ~ '^si_[0-9A-Za-z]{1,64}$'),
    subscription_id  text        NOT NULL,
    account_id       text        NOT NULL,
    currency         char(3)     NOT NULL,
    plan_id          text        NOT NULL,
    -- Always 'ADDON' (see subscriptions.plan_kind).
    plan_kind        text        NOT NULL DEFAULT 'ADDON' CHECK (plan_kind = 'ADDON'),
    quantity         integer     NOT NULL DEFAULT 1 CHECK (quantity > 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (subscription_id, account_id, currency)
        REFERENCES subscriptions (id, account_id, currency) ON DELETE CASCADE,
    FOREIGN KEY (plan_id, plan_kind, currency) REFERENCES plans (id, kind, currency)
);
CREATE INDEX subscription_items_subscription_idx ON subscription_items (subscription_id, created_at, id);
CREATE INDEX subscription_items_account_idx ON subscription_items (account_id);

-- Invoice numbers: "INV-<year>-<global counter, 6+ digits>", unique forever.
CREATE SEQUENCE invoice_number_seq AS bigint;

CREATE FUNCTION next_invoice_number(at timestamptz) RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT 'INV-' || to_char(at AT TIME ZONE 'UTC', 'YYYY') || '-'
        || lpad(nextval('invoice_number_seq')::text, 6, '0')
$$;

CREATE TABLE invoices (
    id               text          PRIMARY KEY CONSTRAINT invoices_id_prefix CHECK (id ~ '^inv_[0-9A-Za-z]{1,64}$'),
    account_id       text          NOT NULL,
    subscription_id  text,
    number           text          NOT NULL UNIQUE CHECK (number ~ '^INV-[0-9]{4}-[0-9]{6,}$'),
    status           text          NOT NULL CHECK (status IN ('DRAFT', 'OPEN', 'PAID', 'VOID', 'UNCOLLECTIBLE')),
    currency         char(3)       NOT NULL,
    -- The account's tax rate when the invoice was built: a later change of the account's
    -- rate must not change issued invoices, and it makes the tax identity row-local.
    tax_rate         numeric(7,6)  NOT NULL CHECK (tax_rate >= 0 AND tax_rate < 1),
    period_start     timestamptz   NOT NULL,
    period_end       timestamptz   NOT NULL,
    issued_at        timestamptz,
    due_at           timestamptz,
    paid_at          timestamptz,
    subtotal         numeric(20,4) NOT NULL,
    tax              numeric(20,4) NOT NULL,
    total            numeric(20,4) NOT NULL,
    amount_paid      numeric(20,4) NOT NULL DEFAULT 0,
    created_at       timestamptz   NOT NULL DEFAULT now(),
    UNIQUE (id, account_id, currency),  -- target of the invoice_lines foreign key
    FOREIGN KEY (account_id, currency) REFERENCES accounts (id, currency),
    FOREIGN KEY (subscription_id, account_id, currency)
        REFERENCES subscriptions (id, account_id, currency),
    CONSTRAINT invoices_period_order CHECK (period_end >= period_start),
    CONSTRAINT invoices_minor_units CHECK (
        subtotal = round(subtotal, currency_minor_units(currency))
        AND amount_paid = round(amount_paid, currency_minor_units(currency))),
    CONSTRAINT invoices_tax CHECK (
        tax = round_half_even(subtotal * tax_rate, currency_minor_units(currency))),
    CONSTRAINT invoices_total CHECK (total = subtotal + tax),
    CONSTRAINT invoices_amount_paid CHECK (
        CASE WHEN total >= 0 THEN amount_paid BETWEEN 0 AND total
             ELSE amount_paid BETWEEN total AND 0 END),
    CONSTRAINT invoices_draft CHECK (
        status <> 'DRAFT' OR (issued_at IS NULL AND amount_paid = 0)),
    CONSTRAINT invoices_issued CHECK (status = 'DRAFT' OR issued_at IS NOT NULL),
    CONSTRAINT invoices_paid CHECK (
        (status = 'PAID') = (paid_at IS NOT NULL) AND (status <> 'PAID' OR amount_paid = total)),
    CONSTRAINT invoices_void_unpaid CHECK (status <> 'VOID' OR amount_paid = 0)
);
-- Newest-first keyset paging: ORDER BY created_at DESC, id DESC.
CREATE INDEX invoices_account_idx ON invoices (account_id, created_at DESC, id DESC);
CREATE INDEX invoices_subscription_idx ON invoices (subscription_id, created_at DESC, id DESC)
    WHERE subscription_id IS NOT NULL;

-- Every line obeys the rule "round once per line" (docs/money.md):
--   amount = round_half_even(quantity * unit_amount) to the currency's minor unit.
-- A proration line therefore bills quantity 1 at the exactly prorated unit amount.
CREATE TABLE invoice_lines (
    id            text           PRIMARY KEY CONSTRAINT invoice_lines_id_prefix CHECK (id ~ '^il_[0-9A-Za-z]{1,64}$'),
    invoice_id    text           NOT NULL,
    account_id    text           NOT NULL,
    currency      char(3)        NOT NULL,
    position      integer        NOT NULL CHECK (position >= 1),
    kind          text           NOT NULL CHECK (kind IN ('SUBSCRIPTION', 'USAGE', 'PRORATION', 'ADJUSTMENT')),
    description   text           NOT NULL CHECK (length(description) BETWEEN 1 AND 500),
    quantity      numeric(24,6)  NOT NULL,
    unit_amount   numeric(24,12) NOT NULL,
    amount        numeric(20,4)  NOT NULL,
    period_start  timestamptz,
    period_end    timestamptz,
    meter_id      text           REFERENCES meters (id),
    FOREIGN KEY (invoice_id, account_id, currency)
        REFERENCES invoices (id, account_id, currency) ON DELETE CASCADE,
    UNIQUE (invoice_id, position),
    CONSTRAINT invoice_lines_amount CHECK (
        amount = round_half_even(quantity * unit_amount, currency_minor_units(currency))),
    CONSTRAINT invoice_lines_usage_meter CHECK ((kind = 'USAGE') = (meter_id IS NOT NULL)),
    CONSTRAINT invoice_lines_usage_quantity CHECK (kind <> 'USAGE' OR quantity >= 0),
    CONSTRAINT invoice_lines_period CHECK (
        (period_start IS NULL) = (period_end IS NULL)
        AND (period_start IS NULL OR period_end >= period_start))
);
CREATE INDEX invoice_lines_account_idx ON invoice_lines (account_id);

-- An unexpired grant replaces the plan-derived value of its feature (docs/billing.md).
CREATE TABLE entitlement_grants (
    id           text          PRIMARY KEY CONSTRAINT entitlement_grants_id_prefix CHECK (id ~ '^grt_[0-9A-Za-z]{1,64}$'),
    account_id   text          NOT NULL REFERENCES accounts (id),
    feature_id   text          NOT NULL REFERENCES features (id),
    enabled      boolean       NOT NULL DEFAULT true,
    limit_value  numeric(24,6) CHECK (limit_value >= 0),
    expires_at   timestamptz,
    created_at   timestamptz   NOT NULL DEFAULT now(),
    CONSTRAINT entitlement_grants_expiry CHECK (expires_at > created_at)
);
CREATE INDEX entitlement_grants_account_idx
    ON entitlement_grants (account_id, feature_id, created_at DESC, id DESC);

-- Mutation idempotency: a writer inserts (principal, key, operation, request_hash) with
-- ON CONFLICT DO NOTHING before doing the work and fills `response` in the same
-- transaction. A conflicting row with response NULL is a request still in flight
-- (CONFLICT); with another request_hash it is a reused key (BAD_USER_INPUT).
CREATE TABLE mutation_requests (
    principal        text        NOT NULL,
    idempotency_key  text        NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 255),
    operation        text        NOT NULL,
    request_hash     text        NOT NULL,
    response         jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, idempotency_key)
);
CREATE INDEX mutation_requests_created_idx ON mutation_requests (created_at);

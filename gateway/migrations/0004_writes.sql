-- 0004_writes: idempotent mutations.
--
-- An idempotency key is scoped to the token's subject and the mutation: the same key
-- may be used once per mutation. A writer, inside the transaction that does the work:
--   1. takes pg_try_advisory_xact_lock on (principal, operation, key) — failing means
--      the same key is in flight in another transaction (CONFLICT);
--   2. reads the stored row: same request_hash → answer with its response and write
--      nothing; another hash → the key was reused for another input (BAD_USER_INPUT);
--   3. does the work and inserts the row with its response, committed with the work.
-- Rows are kept 7 days (the billing engine deletes older ones), so a retry within that
-- window is always recognised.
ALTER TABLE mutation_requests DROP CONSTRAINT mutation_requests_pkey;
ALTER TABLE mutation_requests ADD PRIMARY KEY (principal, operation, idempotency_key);
ALTER TABLE mutation_requests ALTER COLUMN response SET NOT NULL;
ALTER TABLE mutation_requests ALTER COLUMN created_at DROP DEFAULT;

-- 0008_account_directory: the version of the account directory, bumped by every change
-- to the tables that say which accounts exist, whose they are and how they are shown.
--
-- Per-account data has its version in account_versions (bumped by append_event in each
-- write's transaction) and the catalog its own (0007). Neither moves when an account is
-- created, renamed or given to another partner: those change an admin's or a partner's
-- `accounts` listing and a partner's reach. The response cache (gateway/response_cache.py)
-- keeps this version in every entry's stamp, so such a change makes every entry miss.
CREATE TABLE directory_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint  NOT NULL CHECK (version >= 1)
);
INSERT INTO directory_version (version) VALUES (1);

CREATE FUNCTION directory_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE directory_version SET version = version + 1;
    RETURN NULL;
END
$$;

CREATE TRIGGER accounts_directory_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER partners_directory_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON partners
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();
CREATE TRIGGER currencies_directory_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON currencies
    FOR EACH STATEMENT EXECUTE FUNCTION directory_changed();

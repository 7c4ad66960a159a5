-- 0007_catalog_version: the catalog's version, bumped by every change to it.
--
-- The catalog (plans, meters, features, prices, plan entitlements) changes rarely and
-- every request needs it, so each gateway process keeps a copy. Any statement that
-- changes a catalog table bumps the version and notifies channel `catalog_changed` when
-- it commits; a process drops its copy on the notification and reads the catalog again.
CREATE TABLE catalog_version (
    only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version   bigint  NOT NULL CHECK (version >= 1)
);
INSERT INTO catalog_version (version) VALUES (1);

CREATE FUNCTION catalog_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE catalog_version SET version = version + 1;
    PERFORM pg_notify('catalog_changed', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER plans_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER meters_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON meters
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER features_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON features
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER usage_prices_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON usage_prices
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER usage_price_tiers_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON usage_price_tiers
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();
CREATE TRIGGER plan_entitlements_changed
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plan_entitlements
    FOR EACH STATEMENT EXECUTE FUNCTION catalog_changed();

-- Lead sync: a transform may create and update leads. A lead can carry the
-- id a CRM knows it by (`external_id`), which belongs to the import that
-- set it: two CRMs may use the same ids for different people. Unique per
-- (account, import, external id); leads without one (NULLs) never collide.
ALTER TABLE leads ADD COLUMN external_import_id TEXT;
ALTER TABLE leads ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX leads_external_id ON leads (account_id, external_import_id, external_id);

-- Whether a lead record that matches no lead creates one (off by default:
-- an import only moves and updates the leads it is sent).
ALTER TABLE webhook_imports ADD COLUMN create_leads BIGINT NOT NULL DEFAULT 0;

-- Most leads carry no external id (only lead sync sets one). Index only
-- those that do: every other lead insert then writes one index entry
-- fewer, and the index no longer looks to the planner like a way to read
-- an account's leads (PostgreSQL chose it, then filtered 2,000 rows, for
-- single-lead updates on a table without statistics yet). Lookups by
-- external id (`external_id = $n` implies NOT NULL) still use it, and
-- uniqueness is unchanged: NULLs never collided.
DROP INDEX leads_external_id;
CREATE UNIQUE INDEX leads_external_id ON leads (account_id, external_import_id, external_id)
    WHERE external_id IS NOT NULL;

-- SQLite has no trigram index: a search scans the organization's live rows
-- (see the README's "Storage"). Kept so both databases share versions.
SELECT 1;

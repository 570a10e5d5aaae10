-- SQLite has no trigram index (see 000007). Kept so both databases share versions.
SELECT 1;

-- A claim changes only columns no index holds (locked_until, attempts): with
-- room left on each page PostgreSQL updates the row in place (a HOT update)
-- instead of writing a new entry into every index. Applies to pages written
-- from now on.
ALTER TABLE webhook_deliveries SET (fillfactor = 70);

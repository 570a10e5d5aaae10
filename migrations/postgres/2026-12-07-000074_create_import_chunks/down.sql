DROP TABLE import_chunks;

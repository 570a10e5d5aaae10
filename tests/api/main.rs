//! Black-box tests over HTTP: each test spawns the real server on a random
//! port over a fresh database, and runs once on SQLite and once on
//! PostgreSQL.

mod helpers;

mod audit;
mod auth;
mod citus;
mod cli;
mod cluster;
mod console;
mod crash;
mod custom_fields;
mod customers_create;
mod customers_delete;
mod customers_list;
mod customers_update;
mod errors;
mod events;
mod exports;
mod group_commit;
mod hardening;
mod health;
mod import_crash;
mod imports;
mod migrations;
mod openapi;
mod operations;
mod people;
mod process;
mod proxy;
mod receiver;
mod reliability;
mod replica;
mod reporting;
mod safe_writes;
mod shipping_addresses;
mod shutdown;
mod sqlite_wal;
mod tasks;
mod test_mode;
mod webhook_crash;
mod webhooks;

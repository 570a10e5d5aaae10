//! The command line. `serve` is the default; every other command prints one
//! JSON object on stdout, or a message on stderr and a non-zero exit code.

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use crate::auth::keys::{self, NewOrganization};
use crate::config::Settings;
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::scopes::Scopes;
use crate::startup::{Application, StartupError};
use crate::store::{self, Database, api_keys, organizations};

#[derive(Debug, Parser)]
#[command(
    name = "clientele",
    version,
    about = "A multi-tenant, organization-scoped Customers API",
    after_help = crate::config::environment_help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The database: postgres://user@host/db, or sqlite://path (or a path).
    /// Overrides CLIENTELE_DATABASE_URL and the configuration files.
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// The address to listen on, such as 127.0.0.1:8080. Overrides
    /// CLIENTELE_BIND and the configuration files.
    #[arg(long, global = true, value_name = "ADDRESS")]
    pub bind: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the API (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage organizations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Manage API keys.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Scale-out on Citus (distributed PostgreSQL).
    Citus {
        #[command(subcommand)]
        command: CitusCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum CitusCommand {
    /// On a Citus coordinator: make organizations, api_keys and the
    /// migrations' table reference tables, and distribute every tenant table
    /// by organization_id, colocated with customers. Safe to run again, and
    /// after any migration.
    Distribute,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organization with a live key and a test key, each holding
    /// every scope.
    Create {
        /// The organization's name.
        #[arg(long, value_parser = non_empty)]
        name: String,
    },
    /// List the organizations.
    List,
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; its secret is shown only now.
    Create {
        /// The organization the key belongs to (org_…).
        #[arg(long, value_parser = organization_id)]
        organization: OrganizationId,
        /// A name to tell the key by.
        #[arg(long, value_parser = non_empty)]
        name: Option<String>,
        /// Comma-separated: customers:read, customers:write, tokens:create,
        /// events:read, webhooks:write, custom-fields:write, customers:erase,
        /// reports:read.
        #[arg(long, value_parser = scopes, default_value = "customers:read,customers:write,tokens:create")]
        scopes: Scopes,
        /// live, or test: a test key (ck_test_…) and its tokens see and
        /// change only test-mode data.
        #[arg(long, value_parser = mode, default_value = "live")]
        mode: Mode,
    },
    /// Revoke a key: it and the tokens it minted stop working (within a
    /// second on every running instance).
    Revoke {
        /// The key's id (key_…).
        #[arg(value_parser = key_id)]
        key_id: KeyId,
    },
    /// List an organization's keys (never their secrets).
    List {
        /// The organization (org_…).
        #[arg(long, value_parser = organization_id)]
        organization: OrganizationId,
    },
}

fn non_empty(text: &str) -> Result<String, String> {
    match text.trim() {
        "" => Err("must not be empty".into()),
        trimmed => Ok(trimmed.to_owned()),
    }
}

fn organization_id(text: &str) -> Result<OrganizationId, String> {
    OrganizationId::parse(text).ok_or_else(|| "not an organization id (org_…)".into())
}

fn key_id(text: &str) -> Result<KeyId, String> {
    KeyId::parse(text).ok_or_else(|| "not a key id (key_…)".into())
}

/// A key's mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mode {
    pub livemode: bool,
}

fn mode(text: &str) -> Result<Mode, String> {
    match text {
        "live" => Ok(Mode { livemode: true }),
        "test" => Ok(Mode { livemode: false }),
        _ => Err("live or test".into()),
    }
}

fn mode_name(livemode: bool) -> &'static str {
    if livemode { "live" } else { "test" }
}

fn scopes(text: &str) -> Result<Scopes, String> {
    let scopes = Scopes::parse_list(text, ',')?;
    match scopes.is_empty() {
        true => Err("name at least one scope".into()),
        false => Ok(scopes),
    }
}

pub fn run(cli: Cli, mut settings: Settings) -> Result<(), StartupError> {
    if let Some(url) = cli.database_url {
        settings.database_url = url.into();
    }
    if let Some(bind) = cli.bind {
        settings.bind = bind;
    }
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => {
            let applied = Database::migrate(settings.database_url.expose_secret())?;
            print(json!({ "applied": applied }));
            Ok(())
        }
        Command::Org { command } => {
            let mut conn = migrated_connection(&settings)?;
            match command {
                OrgCommand::Create { name } => {
                    print(organization_json(&keys::create_organization(
                        &mut conn, &name,
                    )?));
                }
                OrgCommand::List => {
                    let organizations: Vec<Value> = organizations::list(&mut conn)?
                        .into_iter()
                        .map(|org| json!({"organizationId": org.id, "name": org.name, "createdTime": org.created_time}))
                        .collect();
                    print(json!({ "organizations": organizations }));
                }
            }
            Ok(())
        }
        Command::Key { command } => key_command(command, &mut migrated_connection(&settings)?),
        Command::Citus {
            command: CitusCommand::Distribute,
        } => {
            // No migrations first: it distributes what exists, so that it can
            // run between any two migrations.
            let mut conn = store::connect(settings.database_url.expose_secret())?;
            print(serde_json::to_value(store::citus::distribute(&mut conn)?)?);
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> Result<(), StartupError> {
    actix_web::rt::System::new().block_on(async {
        let mut app = Application::build(&settings)?;
        if let Some(created) = app.take_bootstrapped() {
            // The one time these keys are shown: on stdout, not in the log.
            print(organization_json(&created));
            log::info!(
                "first run: created organization {} and keys {} (live) and {} (test)",
                created.organization_id,
                created.live.key_id,
                created.test.key_id
            );
        }
        log::info!("listening on {} (port {})", settings.bind, app.port());
        app.run_until_stopped().await?;
        Ok(())
    })
}

fn key_command(command: KeyCommand, conn: &mut store::DbConnection) -> Result<(), StartupError> {
    match command {
        KeyCommand::Create {
            organization,
            name,
            scopes,
            mode,
        } => {
            if !organizations::exists(conn, organization)? {
                return Err(format!("no organization {organization}").into());
            }
            let key = keys::issue(conn, organization, name.as_deref(), scopes, mode.livemode)?;
            print(
                json!({"keyId": key.key_id.to_string(), "apiKey": key.api_key.expose_secret(),
                         "mode": mode_name(key.livemode)}),
            );
        }
        KeyCommand::Revoke { key_id } => {
            if !api_keys::revoke(conn, key_id)? {
                return Err(format!("no key {key_id}").into());
            }
            print(json!({"keyId": key_id.to_string(), "revoked": true}));
        }
        KeyCommand::List { organization } => {
            if !organizations::exists(conn, organization)? {
                return Err(format!("no organization {organization}").into());
            }
            let keys: Vec<Value> = api_keys::list(conn, organization)?
                .into_iter()
                .map(|key| {
                    json!({
                        "keyId": key.id,
                        "name": key.name,
                        "scopes": key.scopes.names(),
                        "mode": mode_name(key.livemode),
                        "createdTime": key.created_time,
                        "revokedTime": key.revoked_time,
                    })
                })
                .collect();
            print(json!({ "keys": keys }));
        }
    }
    Ok(())
}

fn migrated_connection(settings: &Settings) -> Result<store::DbConnection, StartupError> {
    let mut conn = store::connect(settings.database_url.expose_secret())?;
    store::run_migrations(&mut conn)?;
    Ok(conn)
}

fn organization_json(created: &NewOrganization) -> Value {
    json!({
        "organizationId": created.organization_id.to_string(),
        "keyId": created.live.key_id.to_string(),
        "apiKey": created.live.api_key.expose_secret(),
        "testKeyId": created.test.key_id.to_string(),
        "testApiKey": created.test.api_key.expose_secret(),
    })
}

fn print(value: Value) {
    println!("{value}");
}

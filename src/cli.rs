//! The command line. `serve` is the default; every other command prints one
//! JSON object on stdout, or a message on stderr and a non-zero exit code.

use clap::{Parser, Subcommand};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

use std::time::Duration;

use crate::auth::keys::{self, NewOrganization};
use crate::auth::people;
use crate::config::Settings;
use crate::domain::audit::Audit;
use crate::domain::contact::Email;
use crate::domain::ids::UserId;
use crate::domain::ids::{KeyId, OrganizationId};
use crate::domain::import;
use crate::domain::people::Role;
use crate::domain::refusal::Refusal;
use crate::domain::scopes::Scopes;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::error::ApiError;
use crate::startup::{Application, StartupError};
use crate::store::StoreError;
use crate::store::users;
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
    /// Manage people: members of organizations and platform operators.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Import customers from a CSV or NDJSON file, as POST
    /// …/customers/imports does: every row checked like a create, written
    /// in batches with its events. A progress bar on a terminal (plain lines
    /// otherwise) on stderr, and one JSON summary on stdout.
    Import {
        /// The organization the customers join (org_…).
        #[arg(long, value_parser = organization_id)]
        organization: OrganizationId,
        /// create (the default): every row is a new customer; upsert: a row
        /// whose externalId a live customer holds updates it.
        #[arg(long, value_parser = import_mode, default_value = "create")]
        mode: import::Mode,
        /// Check every row and report, without writing any customer.
        #[arg(long)]
        dry_run: bool,
        /// Test-mode customers (live by default).
        #[arg(long)]
        test: bool,
        /// csv or ndjson; by default, from the file's extension (.csv,
        /// .ndjson or .jsonl).
        #[arg(long, value_parser = import_format)]
        format: Option<import::Format>,
        /// The file.
        file: std::path::PathBuf,
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
    /// On a Citus coordinator: each node with its shards and their bytes,
    /// and the largest organizations with the node that holds them.
    Status,
    /// On a Citus coordinator: add a worker (it holds no shard until a
    /// rebalance). Refused unless it answers, has the citus extension and
    /// wal_level = logical. Safe to run again.
    AddWorker {
        /// The new worker, as the coordinator reaches it.
        #[arg(value_name = "HOST:PORT")]
        node: store::citus::NodeAddress,
    },
    /// On a Citus coordinator: move shards until every worker holds its
    /// share, without blocking writes but for each move's cut-over. Starts
    /// Citus' background rebalancer, or reports the one running.
    Rebalance {
        /// Return once the moves have ended.
        #[arg(long)]
        wait: bool,
    },
    /// On a Citus coordinator: give an organization a shard of its own (of
    /// every table), optionally moved to a worker of its own. Safe to run
    /// again.
    Isolate {
        #[arg(value_parser = organization_id)]
        organization: OrganizationId,
        /// The worker its shard moves to.
        #[arg(long, value_name = "HOST:PORT")]
        to: Option<store::citus::NodeAddress>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Invite a person: prints a link that works once, for 72 hours, where
    /// they set their password.
    Invite {
        /// The organization they join (org_…); or --platform.
        #[arg(long, value_parser = organization_id, required_unless_present = "platform", conflicts_with = "platform")]
        organization: Option<OrganizationId>,
        /// A platform operator: reads every organization's console.
        #[arg(long)]
        platform: bool,
        #[arg(long, value_parser = email)]
        email: String,
        /// owner, developer, support or analyst (not with --platform).
        #[arg(long, value_parser = member_role, required_unless_present = "platform", conflicts_with = "platform")]
        role: Option<Role>,
    },
    /// List an organization's members, or the platform operators.
    List {
        #[arg(long, value_parser = organization_id, required_unless_present = "platform", conflicts_with = "platform")]
        organization: Option<OrganizationId>,
        #[arg(long)]
        platform: bool,
    },
    /// Disable a person: their sessions end at once, and they cannot sign in.
    Disable {
        /// The person's id (usr_…).
        #[arg(value_parser = user_id)]
        user_id: UserId,
    },
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
    /// Give a key a new secret (shown only now), keeping its id, name,
    /// scopes and tokens; the old secret works for the grace period.
    Roll {
        /// The key's id (key_…).
        #[arg(value_parser = key_id)]
        key_id: KeyId,
        /// How long the old secret keeps working: now, 1h, 24h or 7d (any
        /// number of s, m, h or d).
        #[arg(long, value_parser = keys::grace, default_value = "24h")]
        grace: Duration,
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

fn user_id(text: &str) -> Result<UserId, String> {
    UserId::parse(text).ok_or_else(|| "not a person's id (usr_…)".into())
}

fn email(text: &str) -> Result<String, String> {
    Email::parse(text).map(|email| email.as_str().to_owned())
}

fn member_role(text: &str) -> Result<Role, String> {
    Role::parse_member(text)
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

fn import_mode(text: &str) -> Result<import::Mode, String> {
    import::Mode::parse(text).ok_or_else(|| "create or upsert".into())
}

fn import_format(text: &str) -> Result<import::Format, String> {
    import::Format::parse(text).ok_or_else(|| "csv or ndjson".into())
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
                        &mut conn,
                        &name,
                        &Audit::cli(),
                    )?));
                }
                OrgCommand::List => {
                    let organizations: Vec<Value> = organizations::list(&mut conn)?
                        .into_iter()
                        .map(|org| {
                            json!({"organizationId": org.id, "name": org.name,
                            "createdTime": org.created_time, "disabledTime": org.disabled_time})
                        })
                        .collect();
                    print(json!({ "organizations": organizations }));
                }
            }
            Ok(())
        }
        Command::Key { command } => key_command(command, &mut migrated_connection(&settings)?),
        Command::User { command } => user_command(
            command,
            &mut migrated_connection(&settings)?,
            &settings.public_url(),
        ),
        Command::Import {
            organization,
            mode,
            dry_run,
            test,
            format,
            file,
        } => {
            let tenant = Tenant {
                organization_id: organization,
                livemode: !test,
            };
            let params = import::ImportParams { mode, dry_run };
            crate::imports::cli::run(&settings, tenant, params, format, &file)
        }
        Command::Citus { command } => {
            let mut conn = match command {
                // No migrations first: it distributes what exists, so that it
                // can run between any two migrations.
                CitusCommand::Distribute => store::connect(settings.database_url.expose_secret())?,
                _ => migrated_connection(&settings)?,
            };
            let done = match command {
                CitusCommand::Distribute => {
                    serde_json::to_value(store::citus::distribute(&mut conn)?)
                }
                CitusCommand::Status => serde_json::to_value(store::citus::status(&mut conn)?),
                CitusCommand::AddWorker { node } => {
                    serde_json::to_value(store::citus::add_worker(&mut conn, &node)?)
                }
                CitusCommand::Rebalance { wait } => {
                    serde_json::to_value(store::citus::rebalance(&mut conn, wait)?)
                }
                CitusCommand::Isolate { organization, to } => serde_json::to_value(
                    store::citus::isolate(&mut conn, organization, to.as_ref())?,
                ),
            };
            print(done?);
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
            let key = store::in_transaction_run_again(conn, |conn| {
                keys::issue(
                    conn,
                    organization,
                    name.as_deref(),
                    scopes,
                    mode.livemode,
                    &Audit::cli(),
                )
            })?;
            print(
                json!({"keyId": key.key_id.to_string(), "apiKey": key.api_key.expose_secret(),
                         "mode": mode_name(key.livemode)}),
            );
        }
        KeyCommand::Revoke { key_id } => {
            store::in_transaction_run_again(conn, |conn| {
                keys::revoke(conn, None, key_id, &Audit::cli())
            })
            .map_err(|e| refused(e, format!("no key {key_id}")))?;
            print(json!({"keyId": key_id.to_string(), "revoked": true}));
        }
        KeyCommand::Roll { key_id, grace } => {
            let key = store::in_transaction_run_again(conn, |conn| {
                keys::roll(conn, None, key_id, grace, &Audit::cli())
            })
            .map_err(|e| refused(e, format!("no live key {key_id}")))?;
            let until = Time::now().plus(grace);
            print(
                json!({"keyId": key.key_id.to_string(), "apiKey": key.api_key.expose_secret(),
                "previousSecretExpiresTime": until}),
            );
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
                        "lastUsedTime": key.last_used_time,
                        "revokedTime": key.revoked_time,
                        "previousSecretExpiresTime": key.previous_expires_time,
                    })
                })
                .collect();
            print(json!({ "keys": keys }));
        }
    }
    Ok(())
}

/// A store's refusal as the command's message; other errors as they are.
fn refused(error: StoreError, not_found: String) -> StartupError {
    match error {
        StoreError::Refused(Refusal::NotFound) => not_found.into(),
        StoreError::Refused(refusal) => ApiError::Refused(refusal).to_string().into(),
        other => other.into(),
    }
}

fn user_command(
    command: UserCommand,
    conn: &mut store::DbConnection,
    public_url: &str,
) -> Result<(), StartupError> {
    match command {
        UserCommand::Invite {
            organization,
            platform: _,
            email,
            role,
        } => {
            if let Some(org) = organization
                && !organizations::exists(conn, org)?
            {
                return Err(format!("no organization {org}").into());
            }
            let role = role.unwrap_or(Role::Operator);
            let invitation = store::in_transaction_run_again(conn, |conn| {
                people::invite(conn, organization, &email, role, &Audit::cli())
            })
            .map_err(|e| refused(e, "no such organization".into()))?;
            print(
                json!({"userId": invitation.user_id.to_string(), "inviteUrl": invitation.url(public_url)}),
            );
        }
        UserCommand::List {
            organization,
            platform: _,
        } => {
            if let Some(org) = organization
                && !organizations::exists(conn, org)?
            {
                return Err(format!("no organization {org}").into());
            }
            let people: Vec<Value> = users::list(conn, organization)?
                .into_iter()
                .map(|user| {
                    let status = match (user.disabled_time, user.joined_time) {
                        (Some(_), _) => "disabled",
                        (None, Some(_)) => "active",
                        (None, None) => "invited",
                    };
                    json!({"userId": user.id, "email": user.email, "role": user.role.as_str(),
                        "status": status, "twoStep": user.totp_secret.is_some(),
                        "createdTime": user.created_time, "joinedTime": user.joined_time,
                        "disabledTime": user.disabled_time})
                })
                .collect();
            print(json!({ "users": people }));
        }
        UserCommand::Disable { user_id } => {
            store::in_transaction_run_again(conn, |conn| {
                users::disable(conn, user_id, &Audit::cli())
            })
            .map_err(|e| refused(e, format!("no person {user_id}")))?;
            print(json!({"userId": user_id.to_string(), "disabled": true}));
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

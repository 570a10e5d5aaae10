//! People who sign in to the console: members of an organization, and
//! platform operators (no organization). Only hashes of passwords, invite
//! secrets and recovery codes are stored. Every change of a member writes
//! its audit event in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organizations, sessions, users};
use super::{DbConnection, StoreError, audit};
use crate::domain::audit::{Action, Audit, Target};
use crate::domain::contact::fold_case;
use crate::domain::ids::{OrganizationId, UserId};
use crate::domain::people::Role;
use crate::domain::refusal::Refusal;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
pub(super) struct UserRow {
    id: UserId,
    organization_id: Option<OrganizationId>,
    email: String,
    role: String,
    password_hash: Option<String>,
    totp_secret: Option<String>,
    totp_last_step: Option<i64>,
    recovery_codes: Option<String>,
    invite_expires_at: Option<NaiveDateTime>,
    joined_at: Option<NaiveDateTime>,
    disabled_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
}

/// A person. No `Debug`: the hashes and the TOTP secret must not reach a
/// log line.
#[derive(Clone)]
pub struct User {
    pub id: UserId,
    /// `None` for a platform operator.
    pub organization_id: Option<OrganizationId>,
    pub email: String,
    pub role: Role,
    pub password_hash: Option<String>,
    /// The TOTP secret (base32) once two-step sign-in is enrolled.
    pub totp_secret: Option<String>,
    pub totp_last_step: Option<i64>,
    /// SHA-256 (hex) of each unused recovery code.
    pub recovery_codes: Vec<String>,
    /// When the invite stops working, while it is pending.
    pub invite_expires_time: Option<Time>,
    pub joined_time: Option<Time>,
    pub disabled_time: Option<Time>,
    pub created_time: Time,
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;

    fn try_from(row: UserRow) -> Result<Self, StoreError> {
        let role = Role::parse(&row.role)
            .ok_or_else(|| StoreError::Failed(format!("user {}: role {:?}", row.id, row.role)))?;
        Ok(Self {
            id: row.id,
            organization_id: row.organization_id,
            email: row.email,
            role,
            password_hash: row.password_hash,
            totp_secret: row.totp_secret,
            totp_last_step: row.totp_last_step,
            recovery_codes: row
                .recovery_codes
                .and_then(|codes| serde_json::from_str(&codes).ok())
                .unwrap_or_default(),
            invite_expires_time: row.invite_expires_at.map(Time::from_stored),
            joined_time: row.joined_at.map(Time::from_stored),
            disabled_time: row.disabled_at.map(Time::from_stored),
            created_time: Time::from_stored(row.created_at),
        })
    }
}

impl User {
    /// Whether the person may sign in: joined, and not disabled.
    pub fn is_active(&self) -> bool {
        self.joined_time.is_some() && self.disabled_time.is_none() && self.password_hash.is_some()
    }

    /// The tenant whose audit log records what happens to this member.
    fn tenant(&self) -> Option<Tenant> {
        self.organization_id.map(Tenant::live)
    }
}

fn load(rows: Vec<UserRow>) -> Result<Vec<User>, StoreError> {
    rows.into_iter().map(User::try_from).collect()
}

pub fn find(conn: &mut DbConnection, id: UserId) -> Result<Option<User>, StoreError> {
    let row = users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(User::try_from).transpose()
}

/// The account signed in to with `email` (compared folded).
pub fn find_by_email(conn: &mut DbConnection, email: &str) -> Result<Option<User>, StoreError> {
    let row = users::table
        .filter(users::email_search.eq(fold_case(email)))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(User::try_from).transpose()
}

/// The person a pending invite's secret (its SHA-256) names.
pub fn find_by_invite(
    conn: &mut DbConnection,
    invite_hash: &str,
) -> Result<Option<User>, StoreError> {
    let row = users::table
        .filter(users::invite_hash.eq(invite_hash))
        .filter(users::invite_expires_at.gt(Time::now().naive()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?;
    row.map(User::try_from).transpose()
}

/// An organization's members, or the operators (`None`), oldest first.
pub fn list(conn: &mut DbConnection, org: Option<OrganizationId>) -> Result<Vec<User>, StoreError> {
    let query = users::table.select(UserRow::as_select()).into_boxed();
    let query = match org {
        Some(org) => query.filter(users::organization_id.eq(org)),
        None => query.filter(users::organization_id.is_null()),
    };
    load(
        query
            .order((users::created_at.asc(), users::id.asc()))
            .load(conn)?,
    )
}

/// An invite: who, for which organization (none for an operator) and role.
pub struct Invite<'a> {
    pub organization_id: Option<OrganizationId>,
    pub email: &'a str,
    pub role: Role,
    /// SHA-256 of the link's secret.
    pub invite_hash: String,
    pub expires: Time,
}

/// Invites a person: a new account, or a fresh link for one invited to the
/// same organization who has not joined yet. An email that has an account
/// elsewhere, or that has joined, is refused. Returns the account's id.
pub fn invite(
    conn: &mut DbConnection,
    invite: &Invite<'_>,
    by: &Audit,
) -> Result<UserId, StoreError> {
    let now = Time::now();
    if let Some(existing) = find_by_email(conn, invite.email)? {
        let renewable = existing.organization_id == invite.organization_id
            && existing.joined_time.is_none()
            && existing.disabled_time.is_none();
        if !renewable {
            return Err(Refusal::NameTaken("An account with this email exists.").into());
        }
        diesel::update(users::table.find(existing.id))
            .set((
                users::role.eq(invite.role.as_str()),
                users::invite_hash.eq(&invite.invite_hash),
                users::invite_expires_at.eq(invite.expires.naive()),
                users::updated_at.eq(now.naive()),
            ))
            .execute(conn)?;
        record(conn, &existing, by, Action::MemberInvited)?;
        return Ok(existing.id);
    }
    let id = UserId::generate();
    diesel::insert_into(users::table)
        .values((
            users::id.eq(id),
            users::organization_id.eq(invite.organization_id),
            users::email.eq(invite.email.trim()),
            users::email_search.eq(fold_case(invite.email)),
            users::role.eq(invite.role.as_str()),
            users::invite_hash.eq(&invite.invite_hash),
            users::invite_expires_at.eq(invite.expires.naive()),
            users::created_at.eq(now.naive()),
            users::updated_at.eq(now.naive()),
        ))
        .execute(conn)?;
    let user = find(conn, id)?.ok_or(Refusal::NotFound)?;
    record(conn, &user, by, Action::MemberInvited)?;
    Ok(id)
}

/// Accepts a pending invite: the password is set and the link stops
/// working, in one conditional update (a link works once). Refused (not
/// found) when the link was used, expired, or never existed.
pub fn accept_invite(
    conn: &mut DbConnection,
    invite_hash: &str,
    password_hash: &str,
    origin: &crate::domain::audit::Origin,
) -> Result<User, StoreError> {
    let user = find_by_invite(conn, invite_hash)?.ok_or(Refusal::NotFound)?;
    let now = Time::now().naive();
    let accepted = diesel::update(users::table.find(user.id))
        .filter(users::invite_hash.eq(invite_hash))
        .filter(users::invite_expires_at.gt(now))
        .set((
            users::password_hash.eq(password_hash),
            users::invite_hash.eq(None::<String>),
            users::invite_expires_at.eq(None::<NaiveDateTime>),
            users::joined_at.eq(user.joined_time.map_or(now, Time::naive)),
            users::updated_at.eq(now),
        ))
        .execute(conn)?;
    if accepted == 0 {
        return Err(Refusal::NotFound.into());
    }
    let joined = find(conn, user.id)?.ok_or(Refusal::NotFound)?;
    let by = Audit {
        actor: actor_of(&joined),
        origin: origin.clone(),
    };
    record(conn, &joined, &by, Action::MemberJoined)?;
    Ok(joined)
}

/// How a person acts, as the audit log names them.
pub fn actor_of(user: &User) -> crate::domain::audit::Actor {
    use crate::domain::audit::Actor;
    match user.role {
        Role::Operator => Actor::Operator {
            id: user.id,
            email: user.email.clone(),
        },
        _ => Actor::Member {
            id: user.id,
            email: user.email.clone(),
        },
    }
}

/// Records `action` on `user` in their organization's log (operators
/// belong to none: nothing is recorded for them).
fn record(
    conn: &mut DbConnection,
    user: &User,
    by: &Audit,
    action: Action,
) -> Result<(), StoreError> {
    match user.tenant() {
        Some(tenant) => audit::record(
            conn,
            tenant,
            by,
            action,
            Target::new("member", user.id),
            None,
        ),
        None => Ok(()),
    }
}

/// Records a sign-in attempt on `user` (in their organization's log).
pub fn record_sign_in(
    conn: &mut DbConnection,
    user: &User,
    by: &Audit,
    action: Action,
) -> Result<(), StoreError> {
    record(conn, user, by, action)
}

/// Locks the organization's row until the transaction ends, so that two
/// changes to its owners take turns (SQLite: the writer lock already does).
fn lock_organization(conn: &mut DbConnection, org: OrganizationId) -> Result<(), StoreError> {
    if let DbConnection::Pg(pg) = conn {
        organizations::table
            .find(org)
            .select(organizations::id)
            .for_update()
            .first::<OrganizationId>(pg)
            .optional()?;
    }
    Ok(())
}

/// Refuses when `user` is the organization's last active owner.
fn keep_an_owner(conn: &mut DbConnection, user: &User) -> Result<(), StoreError> {
    let Some(org) = user.organization_id else {
        return Ok(());
    };
    lock_organization(conn, org)?;
    if user.role != Role::Owner {
        return Ok(());
    }
    let other_owners: i64 = users::table
        .filter(users::organization_id.eq(org))
        .filter(users::role.eq(Role::Owner.as_str()))
        .filter(users::disabled_at.is_null())
        .filter(users::joined_at.is_not_null())
        .filter(users::id.ne(user.id))
        .count()
        .get_result(conn)?;
    match other_owners {
        0 => Err(Refusal::Conflict(
            "An organization always keeps an owner: make another member owner first.",
        )
        .into()),
        _ => Ok(()),
    }
}

/// Gives a member of `org` another role; an organization's last owner
/// keeps theirs. Applies to the member's next request.
pub fn set_role(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: UserId,
    role: Role,
    by: &Audit,
) -> Result<User, StoreError> {
    let user = member_of(conn, org, id)?;
    if user.role == role {
        return Ok(user);
    }
    if role != Role::Owner {
        keep_an_owner(conn, &user)?;
    }
    diesel::update(users::table.find(id))
        .set((
            users::role.eq(role.as_str()),
            users::updated_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    record(conn, &user, by, Action::MemberRoleChanged)?;
    find(conn, id)?.ok_or(Refusal::NotFound.into())
}

/// Disables a person: their sessions end at once, and they can no longer
/// sign in. An organization's last owner cannot be disabled.
pub fn disable(conn: &mut DbConnection, id: UserId, by: &Audit) -> Result<User, StoreError> {
    let user = find(conn, id)?.ok_or(Refusal::NotFound)?;
    if user.disabled_time.is_some() {
        return Ok(user);
    }
    keep_an_owner(conn, &user)?;
    diesel::update(users::table.find(id))
        .set((
            users::disabled_at.eq(Time::now().naive()),
            users::invite_hash.eq(None::<String>),
            users::updated_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    end_sessions(conn, id, None)?;
    record(conn, &user, by, Action::MemberDisabled)?;
    find(conn, id)?.ok_or(Refusal::NotFound.into())
}

/// Ends every session of a person but `keep`.
fn end_sessions(
    conn: &mut DbConnection,
    user: UserId,
    keep: Option<&str>,
) -> Result<usize, StoreError> {
    let query = sessions::table
        .filter(sessions::user_id.eq(user))
        .into_boxed();
    let query = match keep {
        Some(keep) => query.filter(sessions::id.ne(keep.to_owned())),
        None => query,
    };
    let ids: Vec<String> = query.select(sessions::id).load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(diesel::delete(sessions::table.filter(sessions::id.eq_any(ids))).execute(conn)?)
}

/// A member of `org` (not found for anyone else).
pub fn member_of(
    conn: &mut DbConnection,
    org: OrganizationId,
    id: UserId,
) -> Result<User, StoreError> {
    find(conn, id)?
        .filter(|user| user.organization_id == Some(org))
        .ok_or(Refusal::NotFound.into())
}

/// Sets a new password and ends every session of the person but `keep`
/// (the one that changed it).
pub fn set_password(
    conn: &mut DbConnection,
    user: &User,
    password_hash: &str,
    keep: Option<&str>,
    by: &Audit,
) -> Result<(), StoreError> {
    diesel::update(users::table.find(user.id))
        .set((
            users::password_hash.eq(password_hash),
            users::updated_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    end_sessions(conn, user.id, keep)?;
    record(conn, user, by, Action::PasswordChanged)
}

/// Turns two-step sign-in on with `secret` (base32) and the hashes of the
/// recovery codes, or off (`None`).
pub fn set_two_step(
    conn: &mut DbConnection,
    user: &User,
    enrolled: Option<(&str, &[String])>,
    by: &Audit,
) -> Result<(), StoreError> {
    let (secret, codes, action) = match enrolled {
        Some((secret, codes)) => (
            Some(secret.to_owned()),
            Some(serde_json::Value::from(codes.to_vec()).to_string()),
            Action::TwoStepEnrolled,
        ),
        None => (None, None, Action::TwoStepRemoved),
    };
    diesel::update(users::table.find(user.id))
        .set((
            users::totp_secret.eq(secret),
            users::recovery_codes.eq(codes),
            users::totp_last_step.eq(None::<i64>),
            users::updated_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    record(conn, user, by, action)
}

/// Takes a code's 30 s step as used, once: `false` when it (or a later
/// one) was already used.
pub fn use_totp_step(conn: &mut DbConnection, id: UserId, step: i64) -> Result<bool, StoreError> {
    let taken = diesel::update(users::table.find(id))
        .filter(
            users::totp_last_step
                .is_null()
                .or(users::totp_last_step.lt(step)),
        )
        .set(users::totp_last_step.eq(step))
        .execute(conn)?;
    Ok(taken == 1)
}

/// Uses the recovery code with this hash, once: `false` when it is not one
/// of the person's unused codes.
pub fn use_recovery_code(
    conn: &mut DbConnection,
    user: &User,
    code_hash: &str,
) -> Result<bool, StoreError> {
    if !user.recovery_codes.iter().any(|c| c == code_hash) {
        return Ok(false);
    }
    let before = serde_json::Value::from(user.recovery_codes.clone()).to_string();
    let left: Vec<&String> = user
        .recovery_codes
        .iter()
        .filter(|c| *c != code_hash)
        .collect();
    let after = serde_json::to_string(&left).unwrap_or_default();
    let used = diesel::update(users::table.find(user.id))
        .filter(users::recovery_codes.eq(before))
        .set(users::recovery_codes.eq(after))
        .execute(conn)?;
    Ok(used == 1)
}

//! Console sessions, in the database so that every instance honours a
//! sign-out, a disable or a password change at once. A session is found by
//! the SHA-256 of its cookie's secret, with its person, in one query.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organizations, sessions, users};
use super::users::{User, UserRow};
use super::{DbConnection, StoreError};
use crate::domain::ids::{OrganizationId, UserId};
use crate::domain::time::Time;

/// A session as a request sees it.
#[derive(Clone)]
pub struct Session {
    /// SHA-256 (hex) of the cookie's secret.
    pub id: String,
    pub user_id: UserId,
    /// The anti-forgery token every state-changing request must carry.
    pub csrf: String,
    pub livemode: bool,
    /// Between a right password and the two-step code: good for nothing
    /// but the code.
    pub pending: bool,
    pub created_time: Time,
    pub last_seen_time: Time,
    /// The organization a platform operator is looking at.
    pub viewing: Option<OrganizationId>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct Row {
    id: String,
    user_id: UserId,
    csrf: String,
    livemode: bool,
    pending: bool,
    created_at: NaiveDateTime,
    last_seen_at: NaiveDateTime,
    viewing: Option<String>,
}

impl From<Row> for Session {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            user_id: row.user_id,
            csrf: row.csrf,
            livemode: row.livemode,
            pending: row.pending,
            created_time: Time::from_stored(row.created_at),
            last_seen_time: Time::from_stored(row.last_seen_at),
            viewing: row.viewing.as_deref().and_then(OrganizationId::parse),
        }
    }
}

/// A new session's parts.
pub struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: UserId,
    pub csrf: &'a str,
    pub pending: bool,
}

pub fn create(conn: &mut DbConnection, new: &NewSession<'_>) -> Result<(), StoreError> {
    let now = Time::now().naive();
    diesel::insert_into(sessions::table)
        .values((
            sessions::id.eq(new.id),
            sessions::user_id.eq(new.user_id),
            sessions::csrf.eq(new.csrf),
            sessions::livemode.eq(true),
            sessions::pending.eq(new.pending),
            sessions::created_at.eq(now),
            sessions::last_seen_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// The organization a session works in, as each request needs it.
#[derive(Clone)]
pub struct Organization {
    pub id: OrganizationId,
    pub name: String,
    pub disabled: bool,
    /// Its members must sign in with two steps.
    pub two_step_required: bool,
}

/// A session with what each request needs to know around it.
#[derive(Clone)]
pub struct Found {
    pub session: Session,
    pub user: User,
    /// The member's organization, or the one an operator looks at; none
    /// for an operator who looks at none.
    pub organization: Option<Organization>,
}

impl Found {
    /// The member's organization requires two-step sign-in (an operator
    /// is never held to another organization's setting).
    pub fn two_step_required(&self) -> bool {
        self.user.organization_id.is_some()
            && self
                .organization
                .as_ref()
                .is_some_and(|o| o.two_step_required)
    }

    /// The member's organization is disabled.
    pub fn organization_disabled(&self) -> bool {
        self.user.organization_id.is_some()
            && self.organization.as_ref().is_some_and(|o| o.disabled)
    }
}

diesel::define_sql_function! {
    /// The first of two texts that is not null.
    fn coalesce(first: diesel::sql_types::Nullable<diesel::sql_types::Text>, second: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

/// The session with this id, its person, and their organization (a
/// member's own, or the one an operator looks at), in one query; none when
/// the session does not exist.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Found>, StoreError> {
    type Joined = (
        Row,
        UserRow,
        Option<(OrganizationId, String, Option<NaiveDateTime>, bool)>,
    );
    let found: Option<Joined> = sessions::table
        .inner_join(users::table)
        .left_join(
            organizations::table.on(organizations::id
                .nullable()
                .eq(coalesce(users::organization_id, sessions::viewing))),
        )
        .filter(sessions::id.eq(id))
        .select((
            Row::as_select(),
            UserRow::as_select(),
            (
                organizations::id,
                organizations::name,
                organizations::disabled_at,
                organizations::require_two_step,
            )
                .nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((session, user, organization)) = found else {
        return Ok(None);
    };
    Ok(Some(Found {
        session: Session::from(session),
        user: User::try_from(user)?,
        organization: organization.map(|(id, name, disabled, required)| Organization {
            id,
            name,
            disabled: disabled.is_some(),
            two_step_required: required,
        }),
    }))
}

/// What changes when a session ends or changes or a person's standing
/// changes: the sessions' count, newest start and latest change, the latest
/// change of any person, and the organizations disabled or requiring
/// two-step. Instances that cache
/// sessions look at it often and forget them when it moves.
#[derive(Debug, Clone, PartialEq, Eq, diesel::QueryableByName)]
pub struct Signal {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sessions: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    newest_session: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    latest_session_change: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>)]
    latest_person: Option<NaiveDateTime>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    disabled_organizations: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    strict_organizations: i64,
}

pub fn signal(conn: &mut DbConnection) -> Result<Signal, StoreError> {
    Ok(diesel::sql_query(
        "SELECT (SELECT count(*) FROM sessions) AS sessions, \
                (SELECT max(created_at) FROM sessions) AS newest_session, \
                (SELECT max(changed_at) FROM sessions) AS latest_session_change, \
                (SELECT max(updated_at) FROM users) AS latest_person, \
                (SELECT count(*) FROM organizations WHERE disabled_at IS NOT NULL) AS disabled_organizations, \
                (SELECT count(*) FROM organizations WHERE require_two_step) AS strict_organizations",
    )
    .get_result(conn)?)
}

/// Points an operator's session at an organization (or at none).
pub fn view(
    conn: &mut DbConnection,
    id: &str,
    organization: Option<OrganizationId>,
) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id))
        .set((
            sessions::viewing.eq(organization.map(|o| o.to_string())),
            sessions::changed_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    Ok(())
}

/// Notes that the session was used now (the idle timeout starts again).
pub fn touch(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id))
        .set(sessions::last_seen_at.eq(Time::now().naive()))
        .execute(conn)?;
    Ok(())
}

/// Switches the console between live and test data.
pub fn set_livemode(conn: &mut DbConnection, id: &str, livemode: bool) -> Result<(), StoreError> {
    diesel::update(sessions::table.find(id))
        .set((
            sessions::livemode.eq(livemode),
            sessions::changed_at.eq(Time::now().naive()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn end(conn: &mut DbConnection, id: &str) -> Result<(), StoreError> {
    diesel::delete(sessions::table.find(id)).execute(conn)?;
    Ok(())
}

/// Deletes sessions past either timeout; how many.
pub fn prune(
    conn: &mut DbConnection,
    idle: Duration,
    absolute: Duration,
) -> Result<usize, StoreError> {
    let now = Time::now();
    Ok(diesel::delete(
        sessions::table.filter(
            sessions::last_seen_at
                .lt(now.minus(idle).naive())
                .or(sessions::created_at.lt(now.minus(absolute).naive())),
        ),
    )
    .execute(conn)?)
}

/// Whether any person of the organization is signed in (for tests).
pub fn count_for(conn: &mut DbConnection, user: UserId) -> Result<i64, StoreError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user))
        .count()
        .get_result(conn)?)
}

//! Console sessions, in the database so that every instance honours a
//! sign-out, a disable or a password change at once. A session is found by
//! the SHA-256 of its cookie's secret, with its person, in one query.

use std::time::Duration;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::schema::{organizations, sessions, users};
use super::users::{User, UserRow};
use super::{DbConnection, StoreError};
use crate::domain::ids::UserId;
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

/// A session with what each request needs to know around it.
#[derive(Clone)]
pub struct Found {
    pub session: Session,
    pub user: User,
    /// The person's organization is disabled.
    pub organization_disabled: bool,
    /// The person's organization requires two-step sign-in.
    pub two_step_required: bool,
}

/// The session with this id, its person, and their organization's state,
/// in one query; none when the session does not exist.
pub fn find(conn: &mut DbConnection, id: &str) -> Result<Option<Found>, StoreError> {
    type Joined = (Row, UserRow, Option<NaiveDateTime>, Option<bool>);
    let found: Option<Joined> = sessions::table
        .inner_join(users::table)
        .left_join(organizations::table.on(users::organization_id.eq(organizations::id.nullable())))
        .filter(sessions::id.eq(id))
        .select((
            Row::as_select(),
            UserRow::as_select(),
            organizations::disabled_at.nullable(),
            organizations::require_two_step.nullable(),
        ))
        .first(conn)
        .optional()?;
    let Some((session, user, disabled, required)) = found else {
        return Ok(None);
    };
    Ok(Some(Found {
        session: Session::from(session),
        user: User::try_from(user)?,
        organization_disabled: disabled.is_some(),
        two_step_required: required.unwrap_or(false),
    }))
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
        .set(sessions::livemode.eq(livemode))
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

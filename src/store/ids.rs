//! Typed ids in rows: each id is stored as the text clients see and read
//! back into its type, on both databases and through `DbConnection`.

use std::io::Write;

use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::Db;
use crate::domain::ids::{
    AttemptId, AuditEventId, CustomerId, EndpointId, EventId, ImportId, KeyId, OrganizationId,
    UserId,
};

macro_rules! stored_as_text {
    ($($id:ident),*) => {$(
        const _: () = {
            // Generates the `AsExpression` and `FromSqlRow` impls for the
            // domain type without Diesel appearing in the domain.
            #[derive(diesel::expression::AsExpression, diesel::deserialize::FromSqlRow)]
            #[diesel(foreign_derive, sql_type = Text)]
            #[allow(dead_code)]
            struct Proxy($id);
        };

        impl ToSql<Text, Pg> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                write!(out, "{self}")?;
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Sqlite> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.to_string());
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Db> for $id {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Db>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl<DB: Backend> FromSql<Text, DB> for $id
        where
            String: FromSql<Text, DB>,
        {
            fn from_sql(bytes: DB::RawValue<'_>) -> deserialize::Result<Self> {
                let text = String::from_sql(bytes)?;
                $id::parse(&text).ok_or_else(|| format!("not a {} id: {text:?}", $id::PREFIX).into())
            }
        }
    )*};
}

stored_as_text!(
    OrganizationId,
    CustomerId,
    KeyId,
    EventId,
    EndpointId,
    AttemptId,
    UserId,
    AuditEventId,
    ImportId
);

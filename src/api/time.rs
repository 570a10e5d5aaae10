//! The contract's time format: RFC 3339 in UTC with milliseconds and `Z`.

use chrono::{NaiveDateTime, SecondsFormat};
use serde::{Serialize, Serializer};

/// A stored UTC time, serialized as `2026-11-22T10:00:00.000Z`.
#[derive(Debug, Clone, Copy)]
pub struct ApiTime(pub NaiveDateTime);

impl Serialize for ApiTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // chrono's RFC 3339 writer, not `format("%Y-…")`: a format string is
        // parsed again on every call, which showed in the profile of get by id.
        serializer.serialize_str(
            &self
                .0
                .and_utc()
                .to_rfc3339_opts(SecondsFormat::Millis, true),
        )
    }
}

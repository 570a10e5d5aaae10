//! Times as the contract writes them: UTC, to the millisecond, with a `Z`.

use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Serialize, Serializer};
use utoipa::openapi::{RefOr, Schema};

/// A UTC time to the millisecond. Both databases store exactly this, so
/// what is read back equals what was written and what clients saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Time(NaiveDateTime);

impl Time {
    pub fn now() -> Self {
        Self::from_utc(Utc::now())
    }

    /// `time`, truncated to the millisecond.
    pub fn from_utc(time: DateTime<Utc>) -> Self {
        let millis = DateTime::from_timestamp_millis(time.timestamp_millis()).unwrap_or(time);
        Self(millis.naive_utc())
    }

    /// `time` within the years 0 to 9999, where a time keeps its order
    /// when written as text (as SQLite compares stored times): a bound a
    /// client gives past either end means the same as that end.
    pub fn from_utc_within_4_digit_years(time: DateTime<Utc>) -> Self {
        let earliest = NaiveDate::from_ymd_opt(0, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .expect("a valid date")
            .and_utc();
        let latest = NaiveDate::from_ymd_opt(9999, 12, 31)
            .and_then(|d| d.and_hms_milli_opt(23, 59, 59, 999))
            .expect("a valid date")
            .and_utc();
        Self::from_utc(time.clamp(earliest, latest))
    }

    /// A stored time (already in milliseconds).
    pub fn from_stored(time: NaiveDateTime) -> Self {
        Self(time)
    }

    pub fn naive(self) -> NaiveDateTime {
        self.0
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(self) -> i64 {
        self.0.and_utc().timestamp_millis()
    }

    /// The time `duration` earlier (the earliest time, if that is before it).
    pub fn minus(self, duration: std::time::Duration) -> Self {
        let delta = TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX);
        Self(
            self.0
                .checked_sub_signed(delta)
                .unwrap_or(NaiveDateTime::MIN),
        )
    }

    /// The time `duration` later (the latest time, if that is after it).
    pub fn plus(self, duration: std::time::Duration) -> Self {
        let delta = TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX);
        Self(
            self.0
                .checked_add_signed(delta)
                .unwrap_or(NaiveDateTime::MAX),
        )
    }

    /// The time one millisecond later.
    pub fn next_millisecond(self) -> Self {
        Self(self.0 + TimeDelta::milliseconds(1))
    }

    /// `2026-11-22T10:00:00.000Z`
    pub fn to_rfc3339(self) -> String {
        // chrono's RFC 3339 writer, not `format("%Y-…")`: a format string is
        // parsed again on every call, which showed in the profile of get by id.
        self.0
            .and_utc()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }
}

impl Serialize for Time {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl utoipa::PartialSchema for Time {
    fn schema() -> RefOr<Schema> {
        super::schema::of(serde_json::json!({
            "type": "string", "format": "date-time", "examples": ["2026-11-22T10:00:00.000Z"],
            "description": "RFC 3339 in UTC, with milliseconds and a Z."
        }))
    }
}

impl utoipa::ToSchema for Time {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_and_z() {
        let time = Time::from_utc(
            DateTime::parse_from_rfc3339("2026-11-22T10:00:00.123456+02:00")
                .unwrap()
                .to_utc(),
        );
        assert_eq!(time.to_rfc3339(), "2026-11-22T08:00:00.123Z");
        assert_eq!(
            time.next_millisecond().to_rfc3339(),
            "2026-11-22T08:00:00.124Z"
        );
    }
}

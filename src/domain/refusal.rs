//! Why a write, once it runs, changes nothing. A refusal is found inside the
//! write's transaction; it is answered like any other error, and it is kept
//! for a retry with the same Idempotency-Key, because the request ran
//! (contract section 8). A write refuses before it writes anything.

use super::ids::CustomerId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No such record in this organization (404).
    NotFound,
    /// `If-Match` named other revisions; the record's current one (412).
    RevisionMismatch { current: i32 },
    /// Another live customer holds the externalId (409).
    ExternalIdTaken { existing: CustomerId },
    /// A record of this name exists (409), and what to tell the client.
    NameTaken(&'static str),
    /// A limit on how many records an organization may have (409), and
    /// what to tell the client.
    LimitReached(&'static str),
    /// The change would break a rule about the records as they are now
    /// (409), such as an organization left without an owner.
    Conflict(&'static str),
}

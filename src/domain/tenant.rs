//! Whose data a request may touch.

use super::ids::OrganizationId;

/// One organization, in one mode (contract section 11): a test-mode
/// credential sees and changes only test-mode data, a live one only live
/// data. Every store function that reads or writes tenant data takes one,
/// and filters by both, the way it once filtered by the organization alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tenant {
    pub organization_id: OrganizationId,
    pub livemode: bool,
}

impl Tenant {
    pub fn live(organization_id: OrganizationId) -> Self {
        Self {
            organization_id,
            livemode: true,
        }
    }
}

//! What a request says about one field of a record it changes.

/// Leave the field as it is, or set it (to a value, or to nothing).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Change<T> {
    #[default]
    Keep,
    Set(Option<T>),
}

//! The filter inputs of the customers list and the reports page: the
//! list's own parameters (`GET …/customers`), shown as a form.

use super::form;
use crate::domain::InvalidField;
use crate::domain::custom_fields::Definitions;

/// One filter input of the list, holding what the query says.
pub struct Filter {
    pub name: String,
    pub label: String,
    pub kind: &'static str,
    pub value: String,
    pub error: Option<String>,
}

/// The filters a query names, as the list's form shows them.
pub fn inputs(pairs: &[(String, String)], definitions: &Definitions) -> Vec<Filter> {
    let value = |name: &str| form::first(pairs, name).to_owned();
    let day = |name: &str| form::day(pairs, name);
    let mut filters = vec![
        Filter::new("email", "Email is", "email", value("email")),
        Filter::new("externalId", "External id is", "text", value("externalId")),
        Filter::new(
            "createdFrom",
            "Created on or after",
            "date",
            day("createdFrom"),
        ),
        Filter::new("createdTo", "Created before", "date", day("createdTo")),
        Filter::new(
            "updatedFrom",
            "Updated on or after",
            "date",
            day("updatedFrom"),
        ),
        Filter::new("updatedTo", "Updated before", "date", day("updatedTo")),
    ];
    for definition in definitions.iter() {
        let name = format!("customFields.{}", definition.name.as_str());
        let label = format!("{} is", definition.name.as_str());
        filters.push(Filter::new(&name, &label, "text", value(&name)));
    }
    filters
}

impl Filter {
    fn new(name: &str, label: &str, kind: &'static str, value: String) -> Self {
        Self {
            name: name.into(),
            label: label.into(),
            kind,
            value,
            error: None,
        }
    }
}

/// Whether any filter holds a value or a refusal (its box starts open).
pub fn any_set(filters: &[Filter]) -> bool {
    filters
        .iter()
        .any(|f| !f.value.is_empty() || f.error.is_some())
}

/// Puts each refusal next to its filter; the others are returned, for the
/// top of the page.
pub fn place(filters: &mut [Filter], invalid: Vec<InvalidField>) -> Vec<String> {
    let mut elsewhere = Vec::new();
    for problem in invalid {
        match filters.iter_mut().find(|f| f.name == problem.field) {
            Some(filter) => filter.error = Some(problem.message),
            None => elsewhere.push(format!("{}: {}", problem.field, problem.message)),
        }
    }
    elsewhere
}

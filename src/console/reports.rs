//! The reports page: customers by country, language and creation day or
//! month, each drawn by the server as an SVG bar chart with its table as
//! the text alternative, and the exports of the API with the same filters.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::filters::{self, Filter};
use super::form;
use super::session::{Chrome, PageError, Signed, render};
use crate::api::CONSOLE_API;
use crate::domain::InvalidField;
use crate::domain::listing::ListParams;
use crate::domain::reports::{GroupBy, is_filter};
use crate::domain::scopes::Scope;
use crate::domain::tenant::Tenant;
use crate::domain::time::Time;
use crate::store::custom_fields::DefinitionCache;
use crate::store::{Database, StoreError, reports};

/// The most bars a chart draws (its table lists every group).
const MAX_BARS: usize = 20;
/// The chart's geometry, in SVG units: where bars start, how long the
/// longest is, and each row's height.
const LABEL_WIDTH: usize = 110;
const BAR_SPACE: usize = 420;
const ROW: usize = 22;

/// How long the charts' counts are kept: a team opening the page, or one
/// person coming back to it, costs the three scans once a minute.
const COUNTS_KEPT: Duration = Duration::from_secs(60);
/// The most sets of counts kept (organizations, modes and filters).
const COUNTS_HELD: u64 = 500;

type Groups = Vec<(Option<String>, i64)>;

/// What the charts count, and when.
pub struct Counted {
    countries: Groups,
    languages: Groups,
    created: Groups,
    at: Time,
}

/// The reports page's counts, kept [`COUNTS_KEPT`] per organization, mode
/// and filters (each scan of every matching customer costs a tenth of a
/// second on a large organization); requests for a set being counted wait
/// for that count. The API's stats and the exports are never kept.
#[derive(Clone)]
pub struct Counts(moka::future::Cache<String, Arc<Counted>>);

impl Default for Counts {
    fn default() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(COUNTS_HELD)
                .time_to_live(COUNTS_KEPT)
                .build(),
        )
    }
}

impl Counts {
    async fn get(
        &self,
        db: &Database,
        tenant: Tenant,
        query: String,
        count: impl Fn(&mut crate::store::DbConnection) -> Result<Counted, StoreError>
        + Send
        + Sync
        + 'static,
    ) -> Result<Arc<Counted>, StoreError> {
        let key = format!("{}/{}/{query}", tenant.organization_id, tenant.livemode);
        self.0
            .try_get_with(key, async move { Ok(Arc::new(db.read(count).await?)) })
            .await
            .map_err(|error: Arc<StoreError>| (*error).clone())
    }
}

/// One bar.
pub struct Bar {
    label: String,
    count: i64,
    y: usize,
    width: usize,
}

/// A chart and its table.
pub struct Chart {
    id: &'static str,
    title: &'static str,
    bars: Vec<Bar>,
    height: usize,
    /// Every group: its key (or "none") and count.
    rows: Vec<(String, i64)>,
    total: i64,
    /// More groups than bars: the table has the rest.
    cut: bool,
}

impl Chart {
    fn of(
        id: &'static str,
        title: &'static str,
        groups: Vec<(Option<String>, i64)>,
        newest_last: bool,
    ) -> Self {
        let rows: Vec<(String, i64)> = groups
            .into_iter()
            .map(|(key, count)| (key.unwrap_or_else(|| "none".into()), count))
            .collect();
        let total = rows.iter().map(|(_, count)| count).sum();
        // Countries and languages: the largest groups; days and months:
        // the latest.
        let mut drawn = rows.clone();
        match newest_last {
            true => drawn = drawn.split_off(drawn.len().saturating_sub(MAX_BARS)),
            false => {
                drawn.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                drawn.truncate(MAX_BARS);
            }
        }
        let largest = drawn.iter().map(|(_, c)| *c).max().unwrap_or(1).max(1);
        let bars = drawn
            .iter()
            .enumerate()
            .map(|(i, (label, count))| Bar {
                label: label.clone(),
                count: *count,
                y: i * ROW,
                width: ((*count as f64 / largest as f64) * BAR_SPACE as f64)
                    .round()
                    .max(1.0) as usize,
            })
            .collect::<Vec<_>>();
        Self {
            id,
            title,
            height: bars.len().max(1) * ROW,
            cut: rows.len() > bars.len(),
            bars,
            rows,
            total,
        }
    }
}

#[derive(Template)]
#[template(path = "reports.html")]
struct ReportsPage {
    chrome: Chrome,
    search: String,
    filters: Vec<Filter>,
    include_deleted: bool,
    by_month: bool,
    problems: Vec<String>,
    charts: Vec<Chart>,
    counted_at: String,
    csv: String,
    ndjson: String,
}

impl ReportsPage {
    fn filtered(&self) -> bool {
        self.include_deleted || filters::any_set(&self.filters)
    }

    fn label_width(&self) -> usize {
        LABEL_WIDTH
    }

    fn bar_x(&self) -> usize {
        LABEL_WIDTH + 8
    }

    fn width(&self) -> usize {
        LABEL_WIDTH + BAR_SPACE + 70
    }
}

/// `GET /console/reports`: the list's filters (`q`, `email`, the time
/// ranges, `includeDeleted`, custom fields), and `period=month` to count
/// by month rather than day.
pub async fn page(
    req: HttpRequest,
    signed: Signed,
    db: web::Data<Database>,
    cache: web::Data<DefinitionCache>,
    counts: web::Data<Counts>,
) -> Result<HttpResponse, PageError> {
    let tenant = signed.reading(&req, &db, Scope::ReportsRead).await?;
    let definitions = cache.get(&db, tenant.organization_id).await?;
    let all = form::filters(req.query_string());
    let by_month = all.iter().any(|(n, v)| n == "period" && v == "month");
    let pairs: Vec<(String, String)> = all
        .into_iter()
        .filter(|(name, _)| name != "period" && is_filter(name))
        .collect();
    let query = form::encode(pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())));
    let export = |format: &str| {
        let joiner = if query.is_empty() { "" } else { "&" };
        format!(
            "{CONSOLE_API}/v1/public-api/organizations/{}/customers/export?format={format}{joiner}{query}",
            tenant.organization_id
        )
    };
    let mut page = ReportsPage {
        chrome: Chrome::signed("Reports", &signed, "reports"),
        search: pairs
            .iter()
            .find(|(n, _)| n == "q")
            .map(|(_, v)| v.clone())
            .unwrap_or_default(),
        filters: filters::inputs(&pairs, &definitions),
        include_deleted: pairs
            .iter()
            .any(|(n, v)| n == "includeDeleted" && v == "true"),
        by_month,
        problems: Vec::new(),
        charts: Vec::new(),
        counted_at: String::new(),
        csv: export("csv"),
        ndjson: export("ndjson"),
    };
    let refused = |mut page: ReportsPage, invalid: Vec<InvalidField>| {
        page.problems = filters::place(&mut page.filters, invalid);
        render(StatusCode::UNPROCESSABLE_ENTITY, &page)
    };
    let params = match ListParams::parse(&pairs) {
        Ok(params) => params,
        Err(invalid) => return refused(page, invalid),
    };
    let filters = match cache.filters(&db, tenant.organization_id, &params).await? {
        Ok(filters) => filters,
        Err(invalid) => return refused(page, invalid),
    };
    let period = if by_month {
        GroupBy::CreatedMonth
    } else {
        GroupBy::CreatedDay
    };
    let key = format!("{by_month}?{query}");
    let counted = counts
        .get(&db, tenant, key, move |conn| {
            Ok(Counted {
                countries: reports::stats(conn, tenant, &params, &filters, GroupBy::Country)?,
                languages: reports::stats(conn, tenant, &params, &filters, GroupBy::Language)?,
                created: reports::stats(conn, tenant, &params, &filters, period)?,
                at: Time::now(),
            })
        })
        .await?;
    page.counted_at = super::shown(counted.at);
    let (countries, languages, created) = (
        counted.countries.clone(),
        counted.languages.clone(),
        counted.created.clone(),
    );
    page.charts = vec![
        Chart::of("country", "By country", countries, false),
        Chart::of("language", "By language", languages, false),
        match by_month {
            true => Chart::of("created", "By month created", created, true),
            false => Chart::of("created", "By day created", created, true),
        },
    ];
    render(StatusCode::OK, &page)
}

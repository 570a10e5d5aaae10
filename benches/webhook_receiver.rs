//! A webhook receiver for `bench/run`: answers every POST 200 at once and
//! keeps, per delivery, the time from the event's `createdTime` (set in the
//! writing transaction) to its arrival. `GET /stats` answers
//! `{"count", "distinct", "p50Ms", "p99Ms", "spanSeconds"}` (span: first to
//! last arrival) and `DELETE /stats` starts over.
//!
//!   cargo bench --bench webhook_receiver     (prints "port N", then serves)

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Instant;

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

#[derive(Default)]
struct Stats {
    latencies_ms: Vec<f64>,
    ids: HashSet<String>,
    first: Option<Instant>,
    last: Option<Instant>,
}

async fn receive(body: web::Bytes, stats: web::Data<Mutex<Stats>>) -> HttpResponse {
    let now = chrono::Utc::now();
    let event: Value = serde_json::from_slice(&body).unwrap_or_default();
    let created = event["createdTime"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    let mut stats = stats.lock().unwrap();
    if let Some(created) = created {
        let latency = now
            .signed_duration_since(created)
            .num_microseconds()
            .unwrap_or(0);
        stats.latencies_ms.push(latency as f64 / 1000.0);
    }
    if let Some(id) = event["id"].as_str() {
        stats.ids.insert(id.to_owned());
    }
    let arrived = Instant::now();
    stats.first.get_or_insert(arrived);
    stats.last = Some(arrived);
    HttpResponse::Ok().finish()
}

async fn report(stats: web::Data<Mutex<Stats>>) -> HttpResponse {
    let stats = stats.lock().unwrap();
    let mut sorted = stats.latencies_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| {
        sorted
            .get(((sorted.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
    };
    let span = match (stats.first, stats.last) {
        (Some(first), Some(last)) => (last - first).as_secs_f64(),
        _ => 0.0,
    };
    HttpResponse::Ok().json(json!({
        "count": stats.latencies_ms.len(),
        "distinct": stats.ids.len(),
        "p50Ms": at(0.50),
        "p99Ms": at(0.99),
        "spanSeconds": span,
    }))
}

async fn reset(stats: web::Data<Mutex<Stats>>) -> HttpResponse {
    *stats.lock().unwrap() = Stats::default();
    HttpResponse::NoContent().finish()
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let stats = web::Data::new(Mutex::new(Stats::default()));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(stats.clone())
            .route("/stats", web::get().to(report))
            .route("/stats", web::delete().to(reset))
            .default_service(web::post().to(receive))
    })
    .workers(1)
    .bind("127.0.0.1:0")?;
    println!("port {}", server.addrs()[0].port());
    server.run().await
}

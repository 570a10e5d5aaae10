//! A real webhook receiver: an HTTP server on a random local port that
//! keeps every request it gets and answers as the test tells it to.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub event_id: String,
    pub content_type: String,
    pub signature: String,
    pub body: String,
    /// When it arrived, and when its answer was written (`None` while the
    /// receiver is still answering).
    pub arrived: Instant,
    pub answered: Option<Instant>,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// How to answer a request: after a pause, with a status.
#[derive(Debug, Clone, Copy)]
pub struct Reply {
    pub status: u16,
    pub after: Duration,
}

impl Reply {
    pub const OK: Reply = Reply {
        status: 200,
        after: Duration::ZERO,
    };

    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            after: Duration::ZERO,
        }
    }
}

/// Decides the answer from the request and how many earlier requests
/// carried the same event id.
type Script = dyn Fn(&Received, usize) -> Reply + Send + Sync;

struct Shared {
    received: Mutex<Vec<Received>>,
    script: Box<Script>,
}

pub struct Receiver {
    pub port: u16,
    shared: Arc<Shared>,
    handle: actix_web::dev::ServerHandle,
    thread: Option<JoinHandle<()>>,
}

async fn receive(req: HttpRequest, body: web::Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let received = Received {
        event_id: header("clientele-event-id"),
        content_type: header("content-type"),
        signature: header("clientele-signature"),
        body: String::from_utf8_lossy(&body).into_owned(),
        arrived: Instant::now(),
        answered: None,
    };
    let (index, reply) = {
        let mut all = shared.received.lock().unwrap();
        let earlier = all
            .iter()
            .filter(|r| r.event_id == received.event_id)
            .count();
        let reply = (shared.script)(&received, earlier);
        all.push(received);
        (all.len() - 1, reply)
    };
    if !reply.after.is_zero() {
        actix_web::rt::time::sleep(reply.after).await;
    }
    shared.received.lock().unwrap()[index].answered = Some(Instant::now());
    HttpResponse::build(actix_web::http::StatusCode::from_u16(reply.status).unwrap()).finish()
}

impl Receiver {
    /// A receiver answering 200 at once.
    pub fn start() -> Receiver {
        Self::scripted(|_, _| Reply::OK)
    }

    pub fn scripted(
        script: impl Fn(&Received, usize) -> Reply + Send + Sync + 'static,
    ) -> Receiver {
        let shared = web::Data::new(Shared {
            received: Mutex::new(Vec::new()),
            script: Box::new(script),
        });
        let (tx, rx) = std::sync::mpsc::channel();
        let data = shared.clone();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(data.clone())
                        .default_service(web::post().to(receive))
                })
                .workers(1)
                .disable_signals()
                .shutdown_timeout(0)
                .bind("127.0.0.1:0")
                .unwrap();
                let port = server.addrs()[0].port();
                let server = server.run();
                tx.send((port, server.handle())).unwrap();
                server.await.unwrap();
            })
        });
        let (port, handle) = rx.recv().unwrap();
        Receiver {
            port,
            shared: shared.into_inner(),
            handle,
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks", self.port)
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// Waits until `condition` holds of what was received, for at most
    /// `limit`; then returns it.
    pub fn wait_for(
        &self,
        limit: Duration,
        condition: impl Fn(&[Received]) -> bool,
    ) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let received = self.received();
            if condition(&received) {
                return received;
            }
            assert!(
                start.elapsed() < limit,
                "the receiver did not get what was expected within {limit:?}: {:#?}",
                received.iter().map(|r| &r.event_id).collect::<Vec<_>>()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `n` requests arrived.
    pub fn wait_for_count(&self, n: usize, limit: Duration) -> Vec<Received> {
        self.wait_for(limit, |r| r.len() >= n)
    }

    /// How many requests each event id got.
    pub fn counts(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for received in self.received() {
            *counts.entry(received.event_id).or_default() += 1;
        }
        counts
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        let _ = std::thread::spawn(move || futures_executor(handle.stop(false))).join();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn futures_executor(stop: impl std::future::Future<Output = ()>) {
    actix_web::rt::System::new().block_on(stop);
}

/// HMAC-SHA256 computed here from its definition (RFC 2104), independently
/// of the server's `hmac` crate.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let pad = |byte: u8| block.iter().map(|k| k ^ byte).collect::<Vec<u8>>();
    let inner = Sha256::new()
        .chain_update(pad(0x36))
        .chain_update(message)
        .finalize();
    Sha256::new()
        .chain_update(pad(0x5c))
        .chain_update(inner)
        .finalize()
        .into()
}

/// Checks `Clientele-Signature: t=<unix seconds>,v1=<hex>` of a request
/// against `secret`; returns `t`.
pub fn verify_signature(received: &Received, secret: &str) -> i64 {
    let (t, v1) = received
        .signature
        .split_once(',')
        .and_then(|(t, v1)| Some((t.strip_prefix("t=")?, v1.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature header {:?}", received.signature));
    let expected = hmac_sha256(
        secret.as_bytes(),
        format!("{t}.{}", received.body).as_bytes(),
    );
    let hex: String = expected.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(v1, hex, "the signature does not verify");
    t.parse().unwrap()
}

#[test]
fn the_independent_hmac_matches_rfc_4231() {
    // RFC 4231, test case 2.
    let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

//! What authentication costs a request once a key is known: the hot path of
//! `Authenticator::authenticate` for an API key (its argon2 verification and
//! record cached) and for a token minted from it. `cargo bench --bench
//! authentication`; the README compares the figures with the CPU a whole
//! request costs in `bench/run`.

use std::time::{Duration, Instant};

use clientele::auth::keys;
use clientele::auth::people::SessionTimeouts;
use clientele::auth::{Authenticator, Credential};
use clientele::domain::scopes::Scopes;
use clientele::domain::token_request::TokenRequest;
use clientele::store::Database;
use secrecy::{ExposeSecret, SecretString};

const CALLS: u32 = 200_000;
const ROUNDS: usize = 5;

fn main() {
    let dir = std::env::temp_dir().join(format!("clientele_auth_bench_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    Database::migrate(&url).unwrap();
    let db = Database::open(&url, 1, Default::default()).unwrap();
    let created = db.run_blocking(keys::bootstrap).unwrap().unwrap();
    let (org, key) = (created.organization_id, created.live);
    let secret = SecretString::from(keys::random_hex(32));
    let timeouts = SessionTimeouts {
        idle: Duration::from_secs(1800),
        absolute: Duration::from_secs(12 * 3600),
    };
    let authenticator = Authenticator::new(db, &secret, Duration::from_secs(60), timeouts);
    let request = TokenRequest {
        scopes: Scopes::all(),
        customer_id: None,
        fields: None,
        expires_in: 3600,
    };
    let api_key = format!("ApiKey {}", key.api_key.expose_secret());

    actix_web::rt::System::new().block_on(async {
        let principal = authenticator.authenticate(Some(api_key.clone()), None).await.unwrap();
        let Credential::ApiKey { key_ref: Some(key_ref), .. } = principal.credential else {
            panic!("an API key without a token reference");
        };
        let (token, _) = authenticator.signer().mint(org, key_ref, &request);
        let bearer = format!("Bearer {}", token.expose_secret());
        for (name, header) in [("ApiKey", &api_key), ("Bearer token", &bearer)] {
            // The first call verifies with argon2 and fills the caches.
            authenticator.authenticate(Some(header.clone()), None).await.unwrap();
            let mut per_call = Vec::with_capacity(ROUNDS);
            for _ in 0..ROUNDS {
                let started = Instant::now();
                for _ in 0..CALLS {
                    authenticator.authenticate(Some(header.clone()), None).await.unwrap();
                }
                per_call.push(started.elapsed() / CALLS);
            }
            per_call.sort();
            println!(
                "{name}: {:.2} µs per request (median of {ROUNDS} rounds of {CALLS}; best {:.2} µs)",
                per_call[ROUNDS / 2].as_secs_f64() * 1e6,
                per_call[0].as_secs_f64() * 1e6,
            );
        }
    });
    println!(
        "argon2 verifications: {} (one per key)",
        authenticator.verifications()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

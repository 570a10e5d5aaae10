//! The console's files, compiled into the binary and served under a name
//! that holds a digest of their content, so that a browser may keep each
//! for a year: a changed file is a new name.

use std::sync::OnceLock;

use actix_web::{HttpResponse, web};

use crate::auth::people::digest;
use crate::error::ApiError;

/// A file the console serves.
pub struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
    path: OnceLock<String>,
}

impl Asset {
    const fn new(
        stem: &'static str,
        extension: &'static str,
        content_type: &'static str,
        bytes: &'static [u8],
    ) -> Self {
        Self {
            stem,
            extension,
            content_type,
            bytes,
            path: OnceLock::new(),
        }
    }

    /// `/console/assets/{stem}.{first 12 hex digits of its SHA-256}.{extension}`
    pub fn path(&self) -> &str {
        self.path.get_or_init(|| {
            let text = String::from_utf8_lossy(self.bytes);
            let hash = &digest(&text)[..12];
            format!("/console/assets/{}.{hash}.{}", self.stem, self.extension)
        })
    }
}

pub static STYLESHEET: Asset = Asset::new(
    "console",
    "css",
    "text/css; charset=utf-8",
    include_bytes!("../../assets/console.css"),
);

pub static SCRIPT: Asset = Asset::new(
    "console",
    "js",
    "text/javascript; charset=utf-8",
    include_bytes!("../../assets/console.js"),
);

/// Every asset, by the name it is served under.
fn all() -> [&'static Asset; 2] {
    [&STYLESHEET, &SCRIPT]
}

/// `GET /console/assets/{file}`: the file whose hashed name this is, kept by
/// browsers and proxies for a year; anything else is 404.
pub async fn serve(file: web::Path<String>) -> Result<HttpResponse, ApiError> {
    let wanted = format!("/console/assets/{file}");
    let asset = all()
        .into_iter()
        .find(|asset| asset.path() == wanted)
        .ok_or(ApiError::NOT_FOUND)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type)
        .body(asset.bytes))
}

//! Third-party browser files, taken from `node_modules` at build time (npm
//! versions pinned by package-lock.json) and served by Tandem itself. The
//! WASM bindings import `xterm`, `xterm-addon-fit` and `asciinema-player`
//! as ES modules; the import map in the page points them at the small
//! wrappers below, which load the UMD builds and re-export what they
//! define (the player's bundle is wrapped in the same response).

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

const XTERM_JS: &str = include_str!("../../node_modules/xterm/lib/xterm.js");
const XTERM_CSS: &str = include_str!("../../node_modules/xterm/css/xterm.css");
const FIT_ADDON_JS: &str =
    include_str!("../../node_modules/xterm-addon-fit/lib/xterm-addon-fit.js");

// The player's IIFE build defines a global `AsciinemaPlayer`; appended, the
// export and Tandem's driver turn the same text into the module the
// bindings import.
const ASCIINEMA_PLAYER_MODULE: &str = concat!(
    include_str!("../../node_modules/asciinema-player/dist/bundle/asciinema-player.min.js"),
    "\nexport const create = AsciinemaPlayer.create;\n",
    include_str!("player_driver.js")
);
const ASCIINEMA_PLAYER_CSS: &str =
    include_str!("../../node_modules/asciinema-player/dist/bundle/asciinema-player.css");

const XTERM_MODULE: &str = "import '/vendor/xterm.js';\nexport const Terminal = self.Terminal;\n";
const FIT_ADDON_MODULE: &str =
    "import '/vendor/xterm-addon-fit.js';\nexport const FitAddon = self.FitAddon.FitAddon;\n";

fn css(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

fn javascript(body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        body,
    )
}

/// The player's module holds Tandem's own driver, which changes with
/// Tandem under the same URL: a browser keeping a day-old copy could not
/// import what the new WASM expects of it, so it is fetched every time.
fn player_module() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        ASCIINEMA_PLAYER_MODULE,
    )
}

pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/vendor/xterm.js", get(|| async { javascript(XTERM_JS) }))
        .route(
            "/vendor/xterm.mjs",
            get(|| async { javascript(XTERM_MODULE) }),
        )
        .route(
            "/vendor/xterm-addon-fit.js",
            get(|| async { javascript(FIT_ADDON_JS) }),
        )
        .route(
            "/vendor/xterm-addon-fit.mjs",
            get(|| async { javascript(FIT_ADDON_MODULE) }),
        )
        .route(
            "/vendor/asciinema-player.mjs",
            get(|| async { player_module() }),
        )
        .route(
            "/vendor/asciinema-player.css",
            get(|| async { css(ASCIINEMA_PLAYER_CSS) }),
        )
        .route("/vendor/xterm.css", get(|| async { css(XTERM_CSS) }))
}

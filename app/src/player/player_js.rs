//! The browser side of the player page: asciinema-player, imported as the
//! ES module the page's import map names, playing through Tandem's driver
//! (which seeks from keyframes). Compiled for the browser only. The page
//! has one player, kept here between the clicks that drive it.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::task::spawn_local;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::HtmlElement;

#[wasm_bindgen(module = "asciinema-player")]
extern "C" {
    /// What `create` returns; every method but `dispose` answers with a
    /// promise, settled once the recording is loaded.
    type AsciinemaPlayer;

    #[wasm_bindgen(js_name = create)]
    fn create_player(driver: &JsValue, element: &HtmlElement, options: &JsValue)
    -> AsciinemaPlayer;

    /// The driver that plays the recording at `cast_url` and seeks with
    /// the keyframes at `keyframes_url`.
    #[wasm_bindgen(js_name = keyframedRecording)]
    fn keyframed_recording(cast_url: &str, keyframes_url: &str) -> JsValue;

    #[wasm_bindgen(method)]
    fn play(this: &AsciinemaPlayer) -> js_sys::Promise;

    #[wasm_bindgen(method)]
    fn pause(this: &AsciinemaPlayer) -> js_sys::Promise;

    /// Seconds from the start.
    #[wasm_bindgen(method)]
    fn seek(this: &AsciinemaPlayer, seconds: f64) -> js_sys::Promise;

    #[wasm_bindgen(method, js_name = getCurrentTime)]
    fn get_current_time(this: &AsciinemaPlayer) -> js_sys::Promise;

    #[wasm_bindgen(method, js_name = addEventListener)]
    fn add_event_listener(this: &AsciinemaPlayer, name: &str, callback: &js_sys::Function);

    #[wasm_bindgen(method)]
    fn dispose(this: &AsciinemaPlayer);
}

/// Where a recording and its keyframes are fetched from.
#[derive(Debug, Clone)]
pub struct Source {
    pub cast: String,
    pub keyframes: String,
}

/// The player on the page, and what it takes to create it again.
struct Mounted {
    player: AsciinemaPlayer,
    source: Source,
    element: HtmlElement,
    speed: f64,
    /// Kept up to date by the player's events, so a new speed keeps playing
    /// when it was.
    playing: Rc<Cell<bool>>,
}

/// What a click asks of the player.
#[derive(Debug, Clone, Copy)]
enum Action {
    Play,
    Pause,
    Seek(f64),
    Speed(f64),
}

enum Slot {
    Empty,
    Ready(Mounted),
    /// A new speed is being set up (it waits for the player's current
    /// time); clicks meanwhile are kept for the new player, in order.
    Changing(Vec<Action>),
}

thread_local! {
    static PLAYER: RefCell<Slot> = const { RefCell::new(Slot::Empty) };
}

/// Creates the player for the recording at `source` in `element`, at
/// normal speed, showing the start.
pub fn mount(source: Source, element: HtmlElement) {
    let mounted = install(source, element, 1.0, 0.0, false);
    PLAYER.set(Slot::Ready(mounted));
}

pub fn play() {
    act(Action::Play);
}

pub fn pause() {
    act(Action::Pause);
}

pub fn seek(seconds: f64) {
    act(Action::Seek(seconds));
}

pub fn set_speed(speed: f64) {
    act(Action::Speed(speed));
}

/// Removes the player, as the page goes away.
pub fn dispose() {
    if let Slot::Ready(mounted) = PLAYER.replace(Slot::Empty) {
        stop(&mounted.player);
    }
}

fn act(action: Action) {
    let ready = PLAYER.with_borrow_mut(|slot| match slot {
        Slot::Empty => None,
        Slot::Changing(queued) => {
            queued.push(action);
            None
        }
        Slot::Ready(_) => match std::mem::replace(slot, Slot::Empty) {
            Slot::Ready(mounted) => Some(mounted),
            _ => None,
        },
    });
    let Some(mounted) = ready else {
        return;
    };
    match action {
        Action::Play => settle(mounted.player.play()),
        Action::Pause => settle(mounted.player.pause()),
        Action::Seek(seconds) => settle(mounted.player.seek(seconds)),
        Action::Speed(speed) if speed == mounted.speed => {}
        Action::Speed(speed) => {
            PLAYER.set(Slot::Changing(Vec::new()));
            spawn_local(change_speed(mounted, speed));
            return;
        }
    }
    PLAYER.set(Slot::Ready(mounted));
}

/// The player takes its speed only when created: make a new one at the
/// same point, playing if the old one was, then do what was clicked
/// meanwhile.
async fn change_speed(old: Mounted, speed: f64) {
    let at = JsFuture::from(old.player.get_current_time())
        .await
        .ok()
        .and_then(|time| time.as_f64())
        .unwrap_or(0.0);
    stop(&old.player);
    let new = install(old.source, old.element, speed, at, old.playing.get());
    match PLAYER.replace(Slot::Ready(new)) {
        Slot::Changing(queued) => queued.into_iter().for_each(act),
        // The page went away meanwhile.
        _ => dispose(),
    }
}

fn stop(player: &AsciinemaPlayer) {
    settle(player.pause());
    player.dispose();
}

fn install(source: Source, element: HtmlElement, speed: f64, at: f64, playing: bool) -> Mounted {
    let options = js_sys::Object::new();
    let set = |key: &str, value: JsValue| {
        let _ = js_sys::Reflect::set(&options, &JsValue::from_str(key), &value);
    };
    set("speed", JsValue::from_f64(speed));
    // Loaded at once, so the first screen and the markers on the progress
    // bar show before anyone presses Play.
    set("preload", JsValue::TRUE);
    // The control bar (and its progress bar, for seeking) always shows.
    set("controls", JsValue::TRUE);
    set("fit", JsValue::from_str("width"));
    let driver = keyframed_recording(&source.cast, &source.keyframes);
    let player = create_player(&driver, &element, &options);
    let state = Rc::new(Cell::new(false));
    for (event, now_playing) in [("playing", true), ("pause", false), ("ended", false)] {
        let state = state.clone();
        let listener = Closure::<dyn FnMut()>::new(move || state.set(now_playing));
        player.add_event_listener(event, listener.as_ref().unchecked_ref());
        // A disposed player may still hold its listeners: they must stay
        // callable, so they are never freed (a few bytes per speed change).
        listener.forget();
    }
    if at > 0.0 {
        settle(player.seek(at));
    }
    if playing {
        settle(player.play());
    }
    Mounted {
        player,
        source,
        element,
        speed,
        playing: state,
    }
}

/// Waits for a player promise so a refusal (Play while already playing)
/// is logged quietly instead of as an unhandled rejection.
fn settle(promise: js_sys::Promise) {
    spawn_local(async move {
        if let Err(error) = JsFuture::from(promise).await {
            leptos::logging::warn!("player: {error:?}");
        }
    });
}

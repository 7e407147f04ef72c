//! Builds the keyframes of an asciicast file as Tandem serves them to the
//! player, writes them as JSON, and prints how long that took. Used by
//! `scripts/player_seek_bench.mjs`:
//! `recording_keyframes <recording.cast> <keyframes.json>`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark fails loudly

use std::time::Instant;

fn main() {
    let mut arguments = std::env::args().skip(1);
    let (Some(cast), Some(out)) = (arguments.next(), arguments.next()) else {
        eprintln!("usage: recording_keyframes <recording.cast> <keyframes.json>");
        std::process::exit(2);
    };
    let began = Instant::now();
    let file = std::io::BufReader::new(std::fs::File::open(&cast).unwrap());
    let keyframes = services::keyframes(file, services::KEYFRAME_EVERY_BYTES).unwrap();
    let json = serde_json::to_vec(&keyframes).unwrap();
    std::fs::write(&out, &json).unwrap();
    println!(
        "  keyframes built      {:.0} ms ({} keyframes, {:.1} MB of JSON)",
        began.elapsed().as_secs_f64() * 1000.0,
        keyframes.len(),
        json.len() as f64 / 1_000_000.0
    );
}

// Seeking in a 100 MB recording in the player Tandem serves, in Debian's
// Chromium: asciinema-player from node_modules with Tandem's driver (the
// same module text as server/src/vendor.rs), and the keyframes Tandem
// builds (services' `recording_keyframes` example, release build). Times
// the load, then seeks to the middle, forward to three quarters and back
// to a quarter; then the same with the player's own driver, which replays
// from the start, for comparison. Prints figures; asserts nothing.
// Run it with `scripts/bench` (or `node scripts/player_seek_bench.mjs`).
import { createServer } from "node:http";
import { createWriteStream, readFileSync, statSync } from "node:fs";
import { once } from "node:events";
import { execFileSync } from "node:child_process";
import { chromium } from "playwright-core";

const TARGET_BYTES = 100 * 1024 * 1024;
const CAST = "/tmp/tandem-seek-bench.cast";
const KEYFRAMES = "/tmp/tandem-seek-bench.keyframes.json";
const PLAYER = "node_modules/asciinema-player/dist/bundle";
const MODULE = [
  readFileSync(`${PLAYER}/asciinema-player.min.js`, "utf8"),
  "export const create = AsciinemaPlayer.create;",
  readFileSync("server/src/player_driver.js", "utf8"),
].join("\n");

async function writeRecording() {
  const out = createWriteStream(CAST);
  out.write(JSON.stringify({ version: 2, width: 120, height: 40, timestamp: 0, env: { TERM: "xterm-256color" } }) + "\n");
  let written = 0;
  let time = 0;
  let line = 0;
  while (written < TARGET_BYTES) {
    // A screenful of coloured log lines per event, 10 ms apart.
    let text = "";
    for (let i = 0; i < 20; i++, line++) {
      text += `\u001b[32m${String(line).padStart(8, "0")}\u001b[0m build step ${line % 97} finished in ${line % 1000} ms; output follows ...\r\n`;
    }
    time += 0.01;
    const event = JSON.stringify([Number(time.toFixed(3)), "o", text]) + "\n";
    written += Buffer.byteLength(event);
    if (!out.write(event)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  return { bytes: statSync(CAST).size, duration: time };
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/player.css"></head>
<body><div id="player"></div></body></html>`;

function serve() {
  const files = {
    "/": ["text/html", () => PAGE],
    "/player.mjs": ["text/javascript", () => MODULE],
    "/player.css": ["text/css", () => readFileSync(`${PLAYER}/asciinema-player.css`)],
    "/recording.cast": ["application/x-asciicast", () => readFileSync(CAST)],
    "/recording.keyframes.json": ["application/json", () => readFileSync(KEYFRAMES)],
  };
  const server = createServer((request, response) => {
    const file = files[request.url];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": file[0] }).end(file[1]());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

// Loads the recording in a new player on `page`, then times the seeks.
function measure(page, keyframed) {
  return page.evaluate(async (keyframed) => {
    const { create, keyframedRecording } = await import("/player.mjs");
    const element = document.getElementById("player");
    element.replaceChildren();
    const began = performance.now();
    const source = keyframed
      ? keyframedRecording("/recording.cast", "/recording.keyframes.json")
      : "/recording.cast";
    const player = create(source, element, { preload: true });
    // The player fetches and parses the file on its first seek; only then
    // does it know the duration.
    await player.seek(0);
    const loaded = performance.now();
    const total = await player.getDuration();
    if (!(total > 0)) throw new Error(`the player reports a duration of ${total}`);
    // The seek is done when the screen shows the lines printed by then
    // (20 numbered lines per event, one event every 10 ms).
    const lastLineShown = () => {
      const numbers = (element.textContent.match(/\d{8}/g) ?? []).map(Number);
      return numbers.length ? Math.max(...numbers) : -1;
    };
    const timed = async (at) => {
      const expected = Math.floor(at / 0.01) * 20 - 1;
      const start = performance.now();
      await player.seek(at);
      while (!(Math.abs(lastLineShown() - expected) <= 40)) {
        await new Promise((resolve) => requestAnimationFrame(resolve));
        if (performance.now() - start > 60000) throw new Error(`no line ${expected} on screen`);
      }
      return performance.now() - start;
    };
    const figures = {
      load: loaded - began,
      middle: await timed(total / 2),
      forward: await timed((total * 3) / 4),
      back: await timed(total / 4),
    };
    player.dispose();
    return figures;
  }, keyframed);
}

const { bytes, duration } = await writeRecording();
console.log(`Recording: ${(bytes / 1024 / 1024).toFixed(1)} MB, ${duration.toFixed(0)} s of output`);
const keyframesBuilder = process.env.TANDEM_KEYFRAMES_BUILDER ?? "target/release/examples/recording_keyframes";
process.stdout.write(execFileSync(keyframesBuilder, [CAST, KEYFRAMES]));
const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
for (const [keyframed, name] of [[true, "Tandem's driver, with keyframes"], [false, "the player's own driver, no keyframes"]]) {
  const figures = await measure(page, keyframed);
  console.log(`  ${name}:`);
  console.log(`    fetch and parse      ${figures.load.toFixed(0)} ms`);
  console.log(`    seek to the middle   ${figures.middle.toFixed(0)} ms`);
  console.log(`    seek on to 3/4       ${figures.forward.toFixed(0)} ms`);
  console.log(`    seek back to 1/4     ${figures.back.toFixed(0)} ms`);
}
await browser.close();
server.close();

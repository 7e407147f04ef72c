// Seeking in a 100 MB recording with the player Tandem serves
// (asciinema-player from node_modules) in Debian's Chromium: how long the
// player takes to load the file, then to seek to its middle, forward to
// three quarters and back to a quarter. Prints figures; asserts nothing.
// Run it with `scripts/bench` (or `node scripts/player_seek_bench.mjs`).
import { createServer } from "node:http";
import { createWriteStream, readFileSync, statSync } from "node:fs";
import { once } from "node:events";
import { chromium } from "playwright-core";

const TARGET_BYTES = 100 * 1024 * 1024;
const CAST = "/tmp/tandem-seek-bench.cast";
const PLAYER = "node_modules/asciinema-player/dist/bundle";

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
<link rel="stylesheet" href="/player.css"><script src="/player.js"></script></head>
<body><div id="player"></div></body></html>`;

function serve() {
  const files = {
    "/": ["text/html", () => PAGE],
    "/player.js": ["text/javascript", () => readFileSync(`${PLAYER}/asciinema-player.min.js`)],
    "/player.css": ["text/css", () => readFileSync(`${PLAYER}/asciinema-player.css`)],
    "/recording.cast": ["application/x-asciicast", () => readFileSync(CAST)],
  };
  const server = createServer((request, response) => {
    const file = files[request.url];
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": file[0] }).end(file[1]());
  });
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

const { bytes, duration } = await writeRecording();
console.log(`Recording: ${(bytes / 1024 / 1024).toFixed(1)} MB, ${duration.toFixed(0)} s of output`);
const server = await serve();
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage();
await page.goto(`http://127.0.0.1:${server.address().port}/`);
const figures = await page.evaluate(async () => {
  const element = document.getElementById("player");
  const began = performance.now();
  const player = AsciinemaPlayer.create("/recording.cast", element, { preload: true });
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
  return {
    load: loaded - began,
    middle: await timed(total / 2),
    forward: await timed((total * 3) / 4),
    back: await timed(total / 4),
  };
});
console.log(`  fetch and parse      ${figures.load.toFixed(0)} ms`);
console.log(`  seek to the middle   ${figures.middle.toFixed(0)} ms`);
console.log(`  seek on to 3/4       ${figures.forward.toFixed(0)} ms`);
console.log(`  seek back to 1/4     ${figures.back.toFixed(0)} ms`);
await browser.close();
server.close();

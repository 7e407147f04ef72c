// Tandem's source for asciinema-player: plays a session's recording, and
// seeks from the keyframe Tandem took nearest before the target (the
// screen as it stood then), so a seek replays at most one keyframe's worth
// of output instead of the recording from its start.
//
// `keyframedRecording(castUrl, keyframesUrl)` returns a driver, as
// asciinema-player's `create` takes in place of a URL. Keyframes count the
// well-formed event lines before them; events here are counted the same.

async function fetched(url, read) {
  const response = await fetch(url);
  if (!response.ok) {
    throw `failed fetching ${url}: ${response.status} ${response.statusText}`;
  }
  return read(response);
}

function isEvent(event) {
  return Array.isArray(event) && event.length === 3 && typeof event[0] === "number" &&
    typeof event[1] === "string" && typeof event[2] === "string";
}

function parseEvents(text) {
  const lines = text.split("\n");
  const header = JSON.parse(lines[0]);
  const events = [];
  let markers = 0;
  for (let i = 1; i < lines.length; i++) {
    let event;
    try {
      event = JSON.parse(lines[i]);
    } catch {
      continue; // the half line a crash leaves, or a blank one
    }
    if (!isEvent(event)) continue;
    if (event[1] === "m") {
      event[2] = { index: markers++, time: event[0], label: event[2] };
    }
    events.push(event);
  }
  return { header, events };
}

export function keyframedRecording(castUrl, keyframesUrl) {
  return ({ feed, reset, resize, onInput, onMarker, now, setTimeout, setState }) => {
    let cols, rows, events, keyframes, duration;
    // The next event to run; everything before it is on the screen.
    let next = 0;
    // Where playback stands, in seconds, while paused.
    let position = 0;
    // now() at the recording's start, while playing.
    let startedAt;
    let timer = null;

    async function init() {
      const [cast, keys] = await Promise.all([
        fetched(castUrl, (response) => response.text()),
        // Without keyframes the recording still plays; seeks replay it
        // from the start.
        fetched(keyframesUrl, (response) => response.json()).catch((error) => {
          console.warn(`no keyframes, seeking from the start: ${error}`);
          return [];
        }),
      ]);
      const { header, events: parsed } = parseEvents(cast);
      if (parsed.length === 0) throw "recording is missing events";
      cols = header.width;
      rows = header.height;
      events = parsed;
      keyframes = keys.filter((key) => key.events <= events.length);
      duration = events[events.length - 1][0];
      const markers = events.filter((e) => e[1] === "m").map((e) => [e[0], e[2].label]);
      return { cols, rows, duration, markers };
    }

    function run(event) {
      const [, code, data] = event;
      if (code === "o") feed(data);
      else if (code === "i") onInput(data);
      else if (code === "m") onMarker(data);
      else if (code === "r") {
        const [newCols, newRows] = data.split("x").map(Number);
        resize(newCols, newRows);
      }
    }

    function schedule() {
      const event = events[next];
      if (event === undefined) {
        timer = null;
        position = duration;
        setState("ended");
        return;
      }
      timer = setTimeout(runDue, Math.max(0, event[0] * 1000 - (now() - startedAt)));
    }

    function runDue() {
      // The timer fired for the next event; run it and any others due.
      do {
        run(events[next++]);
      } while (next < events.length && events[next][0] * 1000 <= now() - startedAt);
      schedule();
    }

    function play() {
      if (timer !== null) throw "already playing";
      if (next >= events.length) throw "already ended";
      startedAt = now() - position * 1000;
      schedule();
      return true;
    }

    function pause() {
      if (timer === null) return true;
      clearTimeout(timer);
      timer = null;
      position = Math.min((now() - startedAt) / 1000, duration);
      return true;
    }

    function currentTime() {
      return timer === null ? position : (now() - startedAt) / 1000;
    }

    function markerTime(where) {
      const at = currentTime();
      const times = events.filter((e) => e[1] === "m").map((e) => e[0]);
      if (where.marker === "prev") return times.filter((t) => t < at).pop() ?? 0;
      if (where.marker === "next") return times.find((t) => t > at) ?? duration;
      return times[where.marker] ?? at;
    }

    function targetOf(where) {
      const at = currentTime();
      if (typeof where === "number") return where;
      if (typeof where === "object") return markerTime(where);
      if (where === "<<") return at - 5;
      if (where === ">>") return at + 5;
      if (where === "<<<") return at - 0.1 * duration;
      if (where === ">>>") return at + 0.1 * duration;
      if (where.endsWith("%")) return (parseFloat(where) / 100) * duration;
      return at;
    }

    // The last keyframe at or before `time` (keyframes are in file order).
    function keyframeBefore(time) {
      let low = 0;
      let high = keyframes.length;
      while (low < high) {
        const middle = (low + high) >> 1;
        if (keyframes[middle].time <= time) low = middle + 1;
        else high = middle;
      }
      return keyframes[low - 1];
    }

    // Shows the screen as it stood at `time`: from the nearest keyframe
    // when going back, or when it is further on than the screen is now.
    function show(time) {
      const shown = next > 0 ? events[next - 1][0] : 0;
      const key = keyframeBefore(time);
      if (time < shown || (key !== undefined && key.events > next)) {
        if (key === undefined) {
          reset(cols, rows);
          next = 0;
        } else {
          reset(key.cols, key.rows, key.screen);
          next = key.events;
        }
      }
      while (next < events.length && events[next][0] <= time) {
        const event = events[next++];
        if (event[1] === "o" || event[1] === "r") run(event);
      }
    }

    function seek(where) {
      const playing = timer !== null;
      pause();
      position = Math.min(Math.max(targetOf(where), 0), duration);
      show(position);
      if (playing) {
        startedAt = now() - position * 1000;
        schedule();
      }
      return true;
    }

    function step(n = 1) {
      pause();
      let outputs = 0;
      while (next < events.length && outputs < n) {
        const event = events[next++];
        run(event);
        position = event[0];
        if (event[1] === "o") outputs++;
      }
      if (next >= events.length) {
        position = duration;
        setState("ended");
      }
    }

    function restart() {
      if (timer !== null) throw "still playing";
      seek(0);
      play();
      return true;
    }

    return { init, play, pause, seek, step, restart, stop: pause, getCurrentTime: currentTime };
  };
}

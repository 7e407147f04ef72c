import { expect, test, type Page } from "@playwright/test";
import { signedIn, terminalText, typeLine } from "../pages";
import { addHost } from "../setup";
import { startSshd, type TestSshd } from "../sshd";

// A session on the real test sshd, played back in the browser by its
// creator, seeking from the keyframes Tandem takes; another operator may
// neither open the player nor fetch the file or its keyframes.

const ADMIN_PASSWORD = "e2e-admin-password";
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

/// What the player's terminal shows.
const playerScreen = (page: Page) => page.locator(".ap-terminal");

test("an operator plays back their session; another operator may not", async ({ browser }) => {
  test.setTimeout(120_000);
  const admin = await signedIn(browser, "admin", ADMIN_PASSWORD);
  await addHost(admin.request, sshd, {
    project: "player-lab",
    host: "player",
    users: [["pia", "Pia"], ["otto", "Otto"]],
    granted: ["pia", "otto"],
  });

  // Pia works on the host, printing more than a keyframe's worth of
  // output (1 MiB), shares the session (a marker), and leaves the shell.
  const pia = await signedIn(browser, "pia", "pia-password");
  await pia.getByRole("row").filter({ hasText: "player" }).getByRole("button", { name: "Login" }).click();
  await expect(pia).toHaveURL(/\/sessions\/\d+$/);
  await pia.locator("body[data-hydrated]").waitFor();
  await typeLine(pia, "seq -f 'line-%06g' 1 100000");
  await expect(terminalText(pia)).toContainText("line-100000", { timeout: 30_000 });
  await pia.getByRole("button", { name: "Share", exact: true }).click();
  const share = pia.getByRole("dialog", { name: "Share session" });
  await share.getByRole("button", { name: "Invite friends" }).click();
  await expect(share.getByLabel("Invitation URL")).toHaveValue(/\/invite\/[A-Z0-9]{8}$/);
  await share.getByRole("button", { name: "Close" }).click();
  await expect(share).toBeHidden();
  await typeLine(pia, "echo played-$((6*7))");
  await expect(terminalText(pia)).toContainText("played-42");
  await typeLine(pia, "exit");
  await expect(pia.getByRole("status", { name: "Session status" })).toContainText("shell on the host exited");

  // Operation > Past sessions > Play.
  await pia.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Past sessions" }).click();
  await expect(pia.getByRole("heading", { name: "Past sessions" })).toBeVisible();
  const row = pia.getByRole("row").filter({ hasText: `${sshd.user}@player` });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText("the shell on the host exited");
  await row.getByRole("link", { name: "Play" }).click();
  await expect(pia).toHaveURL(/\/sessions\/\d+\/play$/);
  const playUrl = new URL(pia.url()).pathname;
  await pia.locator("body[data-hydrated]").waitFor();
  await expect(pia.getByRole("heading", { name: `${sshd.user}@player` })).toBeVisible();

  // Play: the recorded output comes back.
  const controls = pia.getByRole("group", { name: "Playback" });
  await expect(playerScreen(pia)).toBeVisible();
  await controls.getByRole("button", { name: "Play", exact: true }).click();
  await expect(playerScreen(pia)).toContainText("played-42", { timeout: 30_000 });

  // A marker seeks back to who had control at the start, before the
  // output; Play from there at 4x shows it again.
  const markers = pia.getByRole("navigation", { name: "Markers" });
  const control = markers.getByRole("button", { name: /^\d\d:\d\d control: Pia$/ });
  await expect(control).toBeVisible();
  await controls.getByRole("button", { name: "Pause", exact: true }).click();
  await control.click();
  await expect(playerScreen(pia)).not.toContainText("played-42");
  await controls.getByLabel("Speed").selectOption({ label: "4x" });
  await controls.getByRole("button", { name: "Play", exact: true }).click();
  await expect(playerScreen(pia)).toContainText("played-42", { timeout: 30_000 });

  // Seeking to the share, after the long output, starts from a keyframe
  // Tandem took during it: the screen is the one Pia saw then.
  await controls.getByRole("button", { name: "Pause", exact: true }).click();
  await markers.getByRole("button", { name: /^\d\d:\d\d share created$/ }).click();
  await expect(playerScreen(pia)).toContainText("line-100000");
  await expect(playerScreen(pia)).toContainText("line-099990");
  await expect(playerScreen(pia)).not.toContainText("played-42");

  // That screen was drawn from a keyframe, not replayed from the start:
  // given a keyframe of its own just before the share, the player shows
  // that keyframe's screen there, which no replay could.
  const castUrl = playUrl.replace(/\/play$/, "/recording.cast");
  const keyframesUrl = playUrl.replace(/\/play$/, "/recording.keyframes.json");
  const events = (await (await pia.request.get(castUrl)).text())
    .split("\n")
    .slice(1)
    .filter((line) => line.startsWith("["))
    .map((line) => JSON.parse(line) as [number, string, string]);
  const marker = events.findIndex(([, code, text]) => code === "m" && text === "share created");
  expect(marker).toBeGreaterThan(0);
  const [real] = await (await pia.request.get(keyframesUrl)).json();
  const planted = { ...real, events: marker, time: events[marker - 1][0], screen: "\u001b[HPLANTED-KEYFRAME" };
  await pia.route(`**${keyframesUrl}`, (route) => route.fulfill({ json: [planted] }));
  await pia.reload();
  await pia.locator("body[data-hydrated]").waitFor();
  await markers.getByRole("button", { name: /^\d\d:\d\d share created$/ }).click();
  await expect(playerScreen(pia)).toContainText("PLANTED-KEYFRAME");
  await expect(playerScreen(pia)).not.toContainText("line-100000");
  await pia.unroute(`**${keyframesUrl}`);

  // Otto holds the same grant, but this is not his session.
  const otto = await signedIn(browser, "otto", "otto-password");
  const page = await otto.goto(playUrl);
  expect(page?.status()).toBe(403);
  await expect(otto.getByRole("heading", { name: "403 Forbidden" })).toBeVisible();
  expect((await otto.request.get(castUrl)).status()).toBe(403);
  const cast = await pia.request.get(castUrl);
  expect(cast.status()).toBe(200);
  expect(cast.headers()["content-type"]).toBe("application/x-asciicast");
  expect(await cast.text()).toContain("played-42");
  expect((await otto.request.get(keyframesUrl)).status()).toBe(403);
  const keyframes = await (await pia.request.get(keyframesUrl)).json();
  expect(keyframes.length).toBeGreaterThanOrEqual(1);
  expect(keyframes[0].screen).toMatch(/line-0\d{5}/);
});

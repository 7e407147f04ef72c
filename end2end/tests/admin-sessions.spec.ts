import { expect, test } from "@playwright/test";
import { signedIn, terminalText, typeLine } from "../pages";
import { addHost } from "../setup";
import { startSshd, type TestSshd } from "../sshd";

// The admin's live view of sessions: an operator's session appears on
// Administration > Sessions, the admin monitors it read-only while the
// operator is told, then terminates it; operators get 403 there.

const ADMIN_PASSWORD = "e2e-admin-password";
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

test("an admin monitors a live session and terminates it", async ({ browser }) => {
  test.setTimeout(180_000);
  const admin = await signedIn(browser, "admin", ADMIN_PASSWORD);
  // The admin holds no grant on the host: monitoring needs none.
  await addHost(admin.request, sshd, {
    project: "monitor-lab",
    host: "watched",
    users: [["sam", "Sam"], ["oscar", "Oscar"]],
    granted: ["sam"],
  });

  await admin.getByRole("link", { name: "Sessions", exact: true }).click();
  await expect(admin.getByRole("heading", { name: "Sessions", exact: true })).toBeVisible();
  await admin.locator("body[data-hydrated]").waitFor();
  const live = admin.getByRole("region", { name: "Live sessions" });
  const liveRow = live.getByRole("row").filter({ hasText: "watched" });
  await expect(liveRow).toHaveCount(0);

  // Sam logs in; the session appears without a reload.
  const sam = await signedIn(browser, "sam", "sam-password");
  await sam.getByRole("row").filter({ hasText: "watched" }).getByRole("button", { name: "Login" }).click();
  await expect(sam).toHaveURL(/\/sessions\/\d+$/);
  await sam.locator("body[data-hydrated]").waitFor();
  await typeLine(sam, "echo before-$((40+2))");
  await expect(terminalText(sam)).toContainText("before-42");
  await expect(liveRow).toHaveCount(1);
  await expect(liveRow).toContainText("sam");
  await expect(liveRow).toContainText(sshd.user);
  await expect(liveRow).toContainText("Not shared");

  // Monitor: the screen, then Sam's typing live; none of the session's
  // buttons.
  await liveRow.getByRole("link", { name: "Monitor" }).click();
  await expect(admin).toHaveURL(/\/sessions\/\d+$/);
  await expect(terminalText(admin)).toContainText("before-42");
  await expect(admin.getByRole("link", { name: "Stop monitoring" })).toBeVisible();
  await expect(admin.getByRole("button", { name: "Exit session" })).toHaveCount(0);
  await expect(admin.getByRole("button", { name: "Share", exact: true })).toHaveCount(0);
  await expect(admin.getByRole("button", { name: "Apply for control" })).toHaveCount(0);
  const notice = sam.getByRole("status", { name: "Monitoring" });
  await expect(notice).toHaveText("An administrator is monitoring: Administrator");
  await typeLine(sam, "echo live-$((6*7))");
  await expect(terminalText(admin)).toContainText("live-42");

  // What the admin types never reaches the host.
  await typeLine(admin, "echo admin-typed-$((1+1))");
  await typeLine(sam, "echo after-$((3*3))");
  await expect(terminalText(sam)).toContainText("after-9");
  await expect(terminalText(sam)).not.toContainText("admin-typed-2");
  await expect(terminalText(admin)).not.toContainText("admin-typed-2");

  // Stop monitoring: back on Sessions, and Sam's notice goes away.
  await admin.getByRole("link", { name: "Stop monitoring" }).click();
  await expect(admin).toHaveURL(/\/admin\/sessions$/);
  await admin.locator("body[data-hydrated]").waitFor();
  await expect(notice).toHaveText("");

  // Terminate: Sam's page says why; the session moves to Past sessions.
  await liveRow.getByRole("button", { name: "Terminate" }).click();
  await expect(sam.getByRole("status", { name: "Session status" })).toContainText(
    "terminated by an administrator",
  );
  await expect(liveRow).toHaveCount(0);
  const pastRow = admin
    .getByRole("region", { name: "Past sessions" })
    .getByRole("row")
    .filter({ hasText: "watched" });
  await expect(pastRow).toHaveCount(1);
  await expect(pastRow).toContainText("S_451");
  await expect(pastRow).toContainText("sam");
  const play = pastRow.getByRole("link", { name: "Play" });
  await expect(play).toHaveAttribute("href", /^\/sessions\/\d+\/play$/);
  const playUrl = (await play.getAttribute("href"))!;

  // The recording plays in the browser and shows what Sam typed.
  await play.click();
  await expect(admin).toHaveURL(/\/sessions\/\d+\/play$/);
  await admin.locator("body[data-hydrated]").waitFor();
  await admin.getByRole("group", { name: "Playback" }).getByRole("button", { name: "Play" }).click();
  await expect(admin.locator(".ap-terminal")).toContainText("live-42");
  await expect(admin.getByRole("navigation", { name: "Markers" })).toContainText("terminated by Administrator");

  // An operator gets 403 on the admin page and on Sam's recording, and no
  // link to the page.
  const oscar = await signedIn(browser, "oscar", "oscar-password");
  await expect(oscar.getByRole("link", { name: "Sessions", exact: true })).toHaveCount(0);
  const response = await oscar.goto("/admin/sessions");
  expect(response?.status()).toBe(403);
  expect((await oscar.goto(playUrl))?.status()).toBe(403);
});

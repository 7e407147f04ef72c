import { expect, test, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { open, signedIn, terminalText, typeLine } from "../pages";
import { ORIGIN, addHost, call, idWhere } from "../setup";
import { startSshd, type TestSshd } from "../sshd";

// The seed procedure of sharing a scheduled session with named users: the
// owner schedules a session a minute ahead and shares it with a user of
// the project and one outside it (through Session Use); both see it on My
// Sessions, View it once it is active and get an email with the note.

const ADMIN_PASSWORD = "e2e-admin-password";
// Where the SMTP server of the Playwright config keeps what it receives.
const MAILDIR = path.join(__dirname, "..", "..", "target", "e2e-mail", "new");
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

/// `YYYY-MM-DDTHH:MM:SS` in UTC, as the Start (UTC) field takes it.
function utcInput(date: Date) {
  return date.toISOString().slice(0, 19);
}

const row = (page: Page, title: string) => page.getByRole("row", { name: title });

/// The emails received so far, as raw text.
function mails(): string[] {
  if (!fs.existsSync(MAILDIR)) return [];
  return fs.readdirSync(MAILDIR).map((name) => fs.readFileSync(path.join(MAILDIR, name), "utf8"));
}

test("an owner schedules a session and shares it with named users", async ({ browser }) => {
  test.setTimeout(300_000);
  const admin = await signedIn(browser, "admin", ADMIN_PASSWORD);
  await addHost(admin.request, sshd, {
    project: "dash-lab",
    host: "dash",
    users: [["owen", "Owen"], ["paul", "Paul"], ["quinn", "Quinn"]],
    granted: ["owen", "paul"],
  });
  for (const [name, display] of [["paul", "Paul"], ["quinn", "Quinn"]]) {
    const id = await idWhere(admin.request, "admin/list_users", "username", name);
    await call(admin.request, "admin/update_user", {
      id,
      display_name: display,
      role: "operator",
      password: "",
      email: `${name}@example.com`,
    });
  }

  // Host Operations > Schedule, a minute ahead.
  const owner = await signedIn(browser, "owen", "owen-password");
  await owner.locator("body[data-hydrated]").waitFor();
  await owner.getByRole("row").filter({ hasText: "dash" }).getByRole("button", { name: "Schedule" }).click();
  const schedule = owner.getByRole("dialog", { name: "Schedule a session" });
  await schedule.getByLabel("Title").fill("Nginx upgrade");
  await schedule.getByLabel("Start (UTC)").fill(utcInput(new Date(Date.now() + 60_000)));
  await schedule.getByRole("button", { name: "Schedule" }).click();
  await expect(owner).toHaveURL(/\/my-sessions$/);
  await owner.locator("body[data-hydrated]").waitFor();
  await expect(row(owner, "Nginx upgrade")).toContainText("Scheduled");

  // Share: Paul from the project; Quinn after Search all users and the
  // owner's password; a note; Session Use for Quinn.
  await row(owner, "Nginx upgrade").getByRole("button", { name: "Share", exact: true }).click();
  const dialog = owner.getByRole("dialog", { name: "Share Session" });
  await dialog.getByLabel("Search users").fill("quinn");
  await dialog.getByRole("button", { name: "Search", exact: true }).click();
  await expect(dialog.getByText("No users found.")).toBeVisible();
  await dialog.getByLabel("Search users").fill("paul");
  await dialog.getByRole("button", { name: "Search", exact: true }).click();
  await dialog.getByRole("button", { name: "Add paul" }).click();
  await dialog.getByLabel("Search all users").check();
  const prompt = owner.getByRole("dialog", { name: "Confirm your password" });
  await prompt.getByLabel("Your password").fill("owen-password");
  await prompt.getByRole("button", { name: "Confirm" }).click();
  await expect(prompt).toBeHidden();
  await dialog.getByLabel("Search users").fill("quinn");
  await dialog.getByRole("button", { name: "Search", exact: true }).click();
  await expect(dialog.getByText("Quinn (quinn) · outside the project")).toBeVisible();
  await dialog.getByRole("button", { name: "Add quinn" }).click();
  await dialog.getByLabel("Notes").fill("Bring the runbook for nginx 1.27.");
  await dialog.getByRole("button", { name: "Share", exact: true }).click();
  const sessionUse = owner.getByRole("dialog", { name: "Session Use" });
  await sessionUse.getByLabel("Purpose").fill("Upgrade review");
  await sessionUse.getByLabel("Customer or organisation").fill("Acme Corp");
  await sessionUse.getByRole("button", { name: "Share", exact: true }).click();
  await expect(dialog).toBeHidden();
  await row(owner, "Nginx upgrade").getByRole("button", { name: "Shared with (2)" }).click();
  const sharedWith = owner.getByRole("list", { name: "Shared with" });
  await expect(sharedWith).toContainText("Paul (paul)");
  await expect(sharedWith).toContainText("Quinn (quinn)");

  // Each added user sees it Scheduled, with the owner's ID in the title,
  // and is notified; the email arrives with the note.
  const title = "Nginx upgrade (shared by owen)";
  const added: Page[] = [];
  for (const name of ["paul", "quinn"]) {
    const page = await signedIn(browser, name, `${name}-password`);
    await expect(page.getByRole("button", { name: /Notifications, [1-9]\d* unread/ })).toBeVisible();
    await page.getByRole("button", { name: /Notifications/ }).click();
    await expect(page.getByRole("region", { name: "Notifications" })).toContainText(
      "owen shared the session Nginx upgrade with you.",
    );
    await open(page, "/my-sessions");
    await expect(row(page, title)).toContainText("Scheduled");
    await expect(row(page, title).getByRole("button", { name: "View" })).toHaveCount(0);
    added.push(page);
    await expect
      .poll(() => mails().find((mail) => mail.includes(`To: ${name}@example.com`)), { timeout: 15_000 })
      .toBeDefined();
    const mail = mails().find((mail) => mail.includes(`To: ${name}@example.com`))!;
    expect(mail).toContain("Bring the runbook for nginx 1.27.");
    expect(mail).toContain("Session: Nginx upgrade");
    expect(mail).toContain("/my-sessions");
  }

  // At its start it becomes Active; the owner opens it and types.
  await expect(row(owner, "Nginx upgrade")).toContainText("Active", { timeout: 120_000 });
  await row(owner, "Nginx upgrade").getByRole("link", { name: "Open" }).click();
  await expect(owner).toHaveURL(/\/sessions\/\d+$/);
  await owner.locator("body[data-hydrated]").waitFor();
  await typeLine(owner, "echo named-$((6*7))");
  await expect(terminalText(owner)).toContainText("named-42");
  const sessionId = owner.url().split("/").pop()!;

  // Each added user: View, the live terminal, no owner buttons, and the
  // server refuses the owner's actions called directly.
  for (const page of added) {
    await expect(row(page, title)).toContainText("Active", { timeout: 20_000 });
    for (const button of ["Stop", "Cancel", "Extend", "Share"]) {
      await expect(row(page, title).getByRole("button", { name: button, exact: true })).toHaveCount(0);
    }
    for (const [endpoint, form] of [
      ["stop_session", { id: sessionId }],
      ["cancel_session", { id: sessionId }],
      ["extend_session", { id: sessionId, minutes: "30" }],
      ["share_with_users", { id: sessionId, users: "1", note: "" }],
    ] as const) {
      const response = await page.request.post(`/api/${endpoint}`, {
        form,
        headers: { Accept: "application/json", Origin: ORIGIN },
      });
      expect(response.ok(), endpoint).toBeFalsy();
      expect(await response.json(), endpoint).toEqual("Forbidden");
    }
    await row(page, title).getByRole("button", { name: "View" }).click();
    await expect(page).toHaveURL(new RegExp(`/sessions/${sessionId}$`));
    await expect(terminalText(page)).toContainText("named-42");
  }
  await typeLine(owner, "echo live-$((50+5))");
  for (const page of added) {
    await expect(terminalText(page)).toContainText("live-55");
  }

  // The owner stops it: everyone is told, and it leaves every list.
  await open(owner, "/my-sessions");
  await row(owner, "Nginx upgrade").getByRole("button", { name: "Stop" }).click();
  await expect(owner.getByText("No active or scheduled sessions.")).toBeVisible();
  for (const page of added) {
    await expect(page.getByText("The session was closed by its creator.")).toBeVisible();
    await open(page, "/my-sessions");
    await expect(page.getByText("No active or scheduled sessions.")).toBeVisible();
  }
});

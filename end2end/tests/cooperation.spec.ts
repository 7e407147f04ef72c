import { expect, test, type Browser, type Page } from "@playwright/test";
import { open, signIn, terminalText, typeLine } from "../pages";
import { addHost } from "../setup";
import { startSshd, type TestSshd } from "../sshd";

// The seed procedure of cooperation, with separate browsers for the
// creator, two invited users and one user without the grant.

const ADMIN_PASSWORD = "e2e-admin-password";
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

async function newUser(browser: Browser) {
  const context = await browser.newContext();
  return context.newPage();
}

const panel = (page: Page) => page.getByRole("complementary", { name: "Participants" });

/// Share, then Invite friends with the default validity: the URL shown.
async function inviteFriends(creator: Page) {
  const dialog = creator.getByRole("dialog", { name: "Share session" });
  if (!(await dialog.isVisible())) {
    await creator.getByRole("button", { name: "Share", exact: true }).click();
  }
  await expect(dialog.getByLabel("Valid for")).toHaveValue("1h");
  await dialog.getByRole("button", { name: "Invite friends" }).click();
  const url = dialog.getByLabel("Invitation URL");
  await expect(url).toHaveValue(/\/invite\/[A-Z0-9]{8}$/);
  await expect(dialog.getByRole("button", { name: "Copy" })).toBeVisible();
  return url.inputValue();
}

/// Opens the invitation and enters, as an already signed-in user.
async function enter(page: Page, url: string) {
  await open(page, url);
  await page.getByRole("button", { name: "Enter" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await page.locator("body[data-hydrated]").waitFor();
  await expect(panel(page)).toBeVisible();
}

test("a creator shares a session, hands over control, and ends it", async ({ browser }) => {
  test.setTimeout(240_000);
  const creator = await newUser(browser);
  await open(creator, "/login");
  await signIn(creator, "admin", ADMIN_PASSWORD);
  await expect(creator.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await addHost(creator.request, sshd, {
    project: "coop-lab",
    host: "coop",
    users: [["alice", "Alice"], ["bob", "Bob"], ["carol", "Carol"]],
    granted: ["admin", "alice", "bob"],
  });

  // Operation > Host Operations > Login, then some work on the host.
  await open(creator, "/operation/hosts");
  await creator.getByRole("row").filter({ hasText: "coop" }).getByRole("button", { name: "Login" }).click();
  await expect(creator).toHaveURL(/\/sessions\/\d+$/);
  await creator.locator("body[data-hydrated]").waitFor();
  await typeLine(creator, "echo before-$((20+1))");
  await expect(terminalText(creator)).toContainText("before-21");

  // Share > Invite friends; Copy puts the URL on the clipboard; opening the
  // dialog again shows the same URL.
  const url = await inviteFriends(creator);
  await creator.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await creator.getByRole("button", { name: "Copy" }).click();
  await expect(creator.getByText("Copied")).toBeVisible();
  expect(await creator.evaluate(() => navigator.clipboard.readText())).toEqual(url);
  await creator.getByRole("button", { name: "Close" }).click();
  await creator.getByRole("button", { name: "Share", exact: true }).click();
  await expect(creator.getByLabel("Invitation URL")).toHaveValue(url);
  await creator.getByRole("button", { name: "Close" }).click();

  // Alice opens the URL, signs in, sees the invitation information.
  const alice = await newUser(browser);
  await alice.goto(url);
  await expect(alice).toHaveURL(/\/login\?next=/);
  await alice.locator("body[data-hydrated]").waitFor();
  await signIn(alice, "alice", "alice-password");
  await expect(alice.getByRole("heading", { name: "Invitation to a session" })).toBeVisible();
  await expect(alice.getByText("Administrator", { exact: true }).first()).toBeVisible();
  await expect(alice.getByText("coop", { exact: true })).toBeVisible();
  await expect(alice.getByText(sshd.user, { exact: true })).toBeVisible();
  await alice.locator("body[data-hydrated]").waitFor();
  await alice.getByRole("button", { name: "Enter" }).click();
  await expect(alice).toHaveURL(/\/sessions\/\d+$/);

  // The current screen at once; the panel on both pages.
  await expect(terminalText(alice)).toContainText("before-21");
  await expect(panel(alice)).toContainText("Administrator (creator) · has control");
  await expect(panel(creator)).toContainText("Alice");

  // Apply for control; Refuse; apply again; Agree.
  await panel(alice).getByRole("button", { name: "Apply for control" }).click();
  const request = panel(creator).getByRole("listitem", { name: "Request from Alice" });
  await request.getByRole("button", { name: "Refuse" }).click();
  await expect(panel(alice).getByRole("status", { name: "Control notice" })).toHaveText("Your request for control was refused.");
  await panel(alice).getByRole("button", { name: "Apply for control" }).click();
  await request.getByRole("button", { name: "Agree" }).click();
  await expect(panel(alice)).toContainText("You have control.");

  // Alice types; the creator sees it.
  await typeLine(alice, "echo alice-$((6*7))");
  await expect(terminalText(creator)).toContainText("alice-42");

  // The creator takes control back; Alice is told and applies again.
  await panel(creator).getByRole("button", { name: "Take control back" }).click();
  await expect(panel(alice).getByRole("status", { name: "Control notice" })).toHaveText("The creator took control back.");
  await expect(panel(creator)).toContainText("You have control.");
  await panel(alice).getByRole("button", { name: "Apply for control" }).click();
  await request.getByRole("button", { name: "Agree" }).click();
  await expect(panel(alice)).toContainText("You have control.");

  // Release control: back to the creator.
  await panel(alice).getByRole("button", { name: "Release control" }).click();
  await expect(panel(creator)).toContainText("You have control.");

  // Exit session, then Enter again.
  await alice.getByRole("button", { name: "Exit session" }).click();
  await expect(alice.getByText("You left the session")).toBeVisible();
  await alice.getByRole("link", { name: "Enter again" }).click();
  await alice.getByRole("button", { name: "Enter" }).click();
  await expect(alice).toHaveURL(/\/sessions\/\d+$/);
  await expect(panel(alice)).toContainText("Administrator (creator) · has control");

  // Carol holds no grant: refused with a page that says so.
  const carol = await newUser(browser);
  await open(carol, "/login");
  await signIn(carol, "carol", "carol-password");
  await expect(carol.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await carol.goto(url);
  await expect(carol.getByRole("heading", { name: "Not permitted" })).toBeVisible();
  await expect(carol.getByRole("alert")).toContainText("no grant on its host account");

  // Bob enters too; Cancel share forces both out; the URL is refused.
  const bob = await newUser(browser);
  await open(bob, "/login");
  await signIn(bob, "bob", "bob-password");
  await expect(bob.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await enter(bob, url);
  await expect(panel(creator)).toContainText("Bob");
  await creator.getByRole("button", { name: "Share", exact: true }).click();
  await creator.getByRole("dialog", { name: "Share session" }).getByRole("button", { name: "Cancel share" }).click();
  for (const invited of [alice, bob]) {
    await expect(invited.getByText("The creator cancelled the share")).toBeVisible();
    // Forced out: nothing on the page offers a way back in or out.
    await expect(invited.getByRole("link", { name: "Enter again" })).toHaveCount(0);
    await expect(invited.getByRole("button", { name: "Exit session" })).toHaveCount(0);
  }
  await alice.goto(url);
  await expect(alice.getByRole("heading", { name: "Share cancelled" })).toBeVisible();
  await typeLine(creator, "echo still-$((50+5))");
  await expect(terminalText(creator)).toContainText("still-55");

  // A new share; the creator's Exit session ends it for everyone.
  const second = await inviteFriends(creator);
  expect(second).not.toEqual(url);
  await enter(bob, second);
  await expect(terminalText(bob)).toContainText("still-55");
  await creator.getByRole("button", { name: "Exit session" }).click();
  await expect(bob.getByText("The session was closed by its creator.")).toBeVisible();
  await bob.goto(second);
  await expect(bob.getByRole("heading", { name: "Session ended" })).toBeVisible();
});

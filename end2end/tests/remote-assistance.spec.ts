import { expect, test, type Page } from "@playwright/test";
import { open, signIn, terminalText, typeLine } from "../pages";
import { addHost } from "../setup";
import { startSshd, type TestSshd } from "../sshd";

// A share started through the REST API with a token from the profile page,
// joined in the browser with the returned link and with the code.

const ADMIN_PASSWORD = "e2e-admin-password";
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

/// Enters from the invitation page, whose password field is `password`.
async function enterWithPassword(page: Page, password: string | null) {
  await expect(page.getByRole("heading", { name: "Invitation to a session" })).toBeVisible();
  await page.locator("body[data-hydrated]").waitFor();
  const field = page.getByLabel("Invitation password");
  if (password !== null) {
    await field.fill(password);
  }
  await page.getByRole("button", { name: "Enter" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await page.locator("body[data-hydrated]").waitFor();
}

test("a share started through the REST API is joined by its link and by its code", async ({
  browser,
  playwright,
  baseURL,
}) => {
  test.setTimeout(180_000);
  const admin = await (await browser.newContext()).newPage();
  await open(admin, "/login");
  await signIn(admin, "admin", ADMIN_PASSWORD);
  await expect(admin.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await addHost(admin.request, sshd, {
    project: "api-lab",
    host: "apidesk",
    users: [["dora", "Dora"]],
    granted: ["admin", "dora"],
  });

  // Profile > API tokens: the secret is shown once, then only its start.
  await admin.getByRole("link", { name: "Profile" }).click();
  await expect(admin.getByRole("heading", { name: "Profile" })).toBeVisible();
  await admin.locator("body[data-hydrated]").waitFor();
  const tokens = admin.getByRole("region", { name: "API tokens" });
  await tokens.getByLabel("Name").fill("e2e script");
  await tokens.getByRole("button", { name: "Create token" }).click();
  const secretField = admin.getByRole("status", { name: "New API token" }).getByLabel("Token secret");
  await expect(secretField).toHaveValue(/^tandem_[0-9a-f]{64}$/);
  const secret = await secretField.inputValue();
  const row = tokens.getByRole("row").filter({ hasText: "e2e script" });
  await expect(row).toContainText("Active");
  await expect(row).toContainText(secret.slice(0, 13));
  const desktop = admin.getByRole("region", { name: "Desktops" }).getByRole("row").filter({ hasText: "apidesk" });
  const [projectId, desktopId] = [
    (await desktop.getByRole("cell").nth(1).innerText()).trim(),
    (await desktop.getByRole("cell").nth(3).innerText()).trim(),
  ];
  await admin.reload();
  await expect(admin.getByRole("heading", { name: "Profile" })).toBeVisible();
  await expect(admin.getByLabel("Token secret")).toHaveCount(0);
  await expect(admin.getByText(secret)).toHaveCount(0);

  // The admin's session on the desktop.
  await open(admin, "/operation/hosts");
  await admin.getByRole("row").filter({ hasText: "apidesk" }).getByRole("button", { name: "Login" }).click();
  await expect(admin).toHaveURL(/\/sessions\/\d+$/);
  await admin.locator("body[data-hydrated]").waitFor();
  await typeLine(admin, "echo api-$((30+3))");
  await expect(terminalText(admin)).toContainText("api-33");

  // A program with only the token starts sharing it.
  const api = await playwright.request.newContext({ baseURL });
  const path = `/v2/${projectId}/desktops/${desktopId}/remote-assistance`;
  const started = await api.post(path, {
    headers: { "X-Auth-Token": secret },
    data: { password: "pw-4711", validity: "1h" },
  });
  expect(started.status()).toBe(200);
  const space = await started.json();
  expect(space.status).toBe("OPEN");
  expect(space.share_space_passwd).toBe("pw-4711");
  const code: string = space.invitation_code;
  expect(code).toMatch(/^[A-Z0-9]{8}$/);
  expect(space.internet_share_link).toBe(`${baseURL}/invite/${code}`);
  const unauthenticated = await api.get(path);
  expect(unauthenticated.status()).toBe(401);
  expect((await unauthenticated.json()).error_code).toBe("TANDEM.4011");

  // Dora opens the returned link, signs in and enters with the password.
  const dora = await (await browser.newContext()).newPage();
  await dora.goto(space.internet_share_link);
  await expect(dora).toHaveURL(/\/login\?next=/);
  await dora.locator("body[data-hydrated]").waitFor();
  await signIn(dora, "dora", "dora-password");
  await enterWithPassword(dora, "pw-4711");
  await expect(terminalText(dora)).toContainText("api-33");
  await dora.getByRole("button", { name: "Exit session" }).click();

  // Host Operations > Join with code, typed loosely, with the password:
  // the same invitation page, its password already filled in.
  await open(dora, "/operation/hosts");
  const join = dora.getByRole("region", { name: "Join with code" });
  await join.getByLabel("Invitation code").fill(` ${code.slice(0, 4).toLowerCase()}-${code.slice(4)} `);
  await join.getByLabel("Password (if set)").fill("pw-4711");
  await join.getByRole("button", { name: "Join" }).click();
  await expect(dora).toHaveURL(new RegExp(`/invite/${code}$`));
  await expect(dora.getByLabel("Invitation password")).toHaveValue("pw-4711");
  await enterWithPassword(dora, null);
  await typeLine(admin, "echo again-$((40+4))");
  await expect(terminalText(dora)).toContainText("again-44");

  // A code nobody issued, in the box on My Sessions, leads to the same
  // refusal as an unknown URL.
  const other = await (await browser.newContext()).newPage();
  await open(other, "/login");
  await signIn(other, "dora", "dora-password");
  await expect(other.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await open(other, "/my-sessions");
  const otherJoin = other.getByRole("region", { name: "Join with code" });
  await otherJoin.getByLabel("Invitation code").fill(code === "ZZZZ9999" ? "YYYY9999" : "ZZZZ9999");
  await otherJoin.getByRole("button", { name: "Join" }).click();
  await expect(other.getByRole("heading", { name: "No such invitation" })).toBeVisible();

  // The program cancels the share: Dora is forced out.
  const cancelled = await api.delete(path, { headers: { "X-Auth-Token": secret } });
  expect(cancelled.status()).toBe(200);
  expect((await cancelled.json()).status).toBe("CANCELLED");
  await expect(dora.getByText("The creator cancelled the share")).toBeVisible();

  // Revoked on the profile page, the token no longer works.
  await open(admin, "/profile");
  await admin.getByRole("button", { name: "Revoke e2e script" }).click();
  await expect(admin.getByRole("row").filter({ hasText: "e2e script" })).toContainText("Revoked");
  const revoked = await api.get(path, { headers: { "X-Auth-Token": secret } });
  expect(revoked.status()).toBe(401);
  expect((await revoked.json()).error_code).toBe("TANDEM.4013");
  await api.dispose();
});

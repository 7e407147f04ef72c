import { expect, test, type Page } from "@playwright/test";

const ADMIN_PASSWORD = "e2e-admin-password";
const FINGERPRINT = "SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI";

async function logIn(page: Page, username: string, password: string) {
  await page.goto("/login");
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

test("a wrong password is refused with the generic message", async ({ page }) => {
  await logIn(page, "admin", "not-the-password");
  await expect(page.getByRole("alert")).toHaveText("invalid user name or password");
  await expect(page).toHaveURL(/\/login$/);
});

test("the admin sets up an operator who sees exactly the granted host", async ({ browser }) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  await logIn(admin, "admin", ADMIN_PASSWORD);
  await expect(admin.getByRole("heading", { name: "Host Operations" })).toBeVisible();

  await admin.getByRole("link", { name: "Users" }).click();
  const newUser = admin.getByRole("region", { name: "New user" });
  await newUser.getByLabel("Username").fill("olivia");
  await newUser.getByLabel("Display name").fill("Olivia Operator");
  await newUser.getByLabel("Password").fill("olivia-password");
  await newUser.getByRole("button", { name: "Create user" }).click();
  await expect(admin.getByRole("cell", { name: "olivia", exact: true })).toBeVisible();

  await admin.getByRole("link", { name: "Projects" }).click();
  const newProject = admin.getByRole("region", { name: "New project" });
  await newProject.getByLabel("Name").fill("payments");
  await newProject.getByRole("button", { name: "Create project" }).click();
  await expect(admin.getByRole("cell", { name: "payments", exact: true })).toBeVisible();

  await admin.getByRole("link", { name: "Hosts", exact: true }).click();
  const newHost = admin.getByRole("region", { name: "New host" });
  await newHost.getByLabel("Project").selectOption({ label: "payments" });
  await newHost.getByLabel("Name").fill("db-1");
  await newHost.getByLabel("Address").fill("127.1.2.3");
  await newHost.getByLabel("Host key").fill(FINGERPRINT);
  await newHost.getByRole("button", { name: "Create host" }).click();
  await expect(admin.getByRole("cell", { name: "db-1", exact: true })).toBeVisible();

  await admin.getByRole("link", { name: "Host accounts" }).click();
  const newAccount = admin.getByRole("region", { name: "New host account" });
  await newAccount.getByLabel("Host").selectOption({ label: "db-1 (payments)" });
  await newAccount.getByLabel("Login").fill("postgres");
  await newAccount.getByLabel("Secret", { exact: true }).fill("pg-secret");
  await newAccount.getByRole("button", { name: "Create account" }).click();
  await expect(admin.getByRole("cell", { name: "postgres", exact: true })).toBeVisible();
  await expect(admin.getByText("pg-secret")).toHaveCount(0);

  await admin.getByRole("link", { name: "Grants" }).click();
  const newGrant = admin.getByRole("region", { name: "New grant" });
  await newGrant.getByLabel("User").selectOption({ label: "olivia" });
  await newGrant.getByLabel("Host account").selectOption({ label: "postgres@db-1 (payments)" });
  await newGrant.getByRole("button", { name: "Grant" }).click();
  await expect(admin.getByRole("cell", { name: "postgres@db-1 (payments)" })).toBeVisible();

  const operatorContext = await browser.newContext();
  const operator = await operatorContext.newPage();
  await logIn(operator, "olivia", "olivia-password");
  await expect(operator.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  const rows = operator.locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("payments");
  await expect(rows.first()).toContainText("db-1");
  await expect(rows.first()).toContainText("127.1.2.3:22");
  await expect(rows.first()).toContainText("postgres");
  await expect(operator.getByRole("link", { name: "Users" })).toHaveCount(0);

  await operator.getByRole("button", { name: "Login" }).click();
  await expect(operator.getByRole("heading", { name: "postgres@db-1" })).toBeVisible();
  const sessionUrl = operator.url();
  expect(sessionUrl).toMatch(/\/sessions\/\d+$/);

  // Refused by URL: the admin pages, an unknown session, and a session on a
  // host account whose grant was revoked.
  const usersPage = await operator.goto("/admin/users");
  expect(usersPage?.status()).toBe(403);
  await expect(operator.getByRole("heading", { name: "403 Forbidden" })).toBeVisible();
  const unknown = await operator.goto("/sessions/9999");
  expect(unknown?.status()).toBe(404);

  await admin.getByRole("link", { name: "Grants" }).click();
  await admin.getByRole("row").filter({ hasText: "olivia" }).getByRole("button", { name: "Revoke" }).click();
  await expect(admin.getByRole("cell", { name: "postgres@db-1 (payments)" })).toHaveCount(0);
  const revoked = await operator.goto(sessionUrl);
  expect(revoked?.status()).toBe(403);
  await operator.goto("/operation/hosts");
  await expect(operator.getByText("No host accounts are granted to you yet")).toBeVisible();

  await adminContext.close();
  await operatorContext.close();
});

import { readFileSync } from "node:fs";
import { expect, test } from "@playwright/test";
import { open, signIn } from "../pages";

const ADMIN_PASSWORD = "e2e-admin-password";

test("the admin finds a failed login in the audit log and exports it; operators are refused", async ({
  browser,
}) => {
  const strangerContext = await browser.newContext();
  const stranger = await strangerContext.newPage();
  await open(stranger, "/login");
  await signIn(stranger, "intruder-e2e", "guessing");
  await expect(stranger.getByRole("alert")).toHaveText("invalid user name or password");

  const adminContext = await browser.newContext({ acceptDownloads: true });
  const admin = await adminContext.newPage();
  await open(admin, "/login");
  await signIn(admin, "admin", ADMIN_PASSWORD);
  await expect(admin.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await admin.getByRole("link", { name: "Audit log" }).click();
  await expect(admin.getByRole("heading", { name: "Audit log" })).toBeVisible();

  const filters = admin.getByRole("form", { name: "Filters" });
  await filters.getByLabel("User", { exact: true }).fill("intruder-e2e");
  await filters.getByLabel("Kind").selectOption("login_failed");
  await filters.getByRole("button", { name: "Search" }).click();
  await expect(admin).toHaveURL(/user=intruder-e2e/);
  const rows = admin.getByRole("table", { name: "Audit events" }).locator("tbody tr");
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText("intruder-e2e");
  await expect(rows.first()).toContainText("127.0.0.1");
  await expect(rows.first()).toContainText("denied");

  const [download] = await Promise.all([
    admin.waitForEvent("download"),
    admin.getByRole("link", { name: "Export CSV" }).click(),
  ]);
  const path = await download.path();
  const csv = readFileSync(path, "utf8");
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toBe("id,at,actor_id,actor,address,kind,session_id,host_id,object,outcome,detail");
  expect(lines).toHaveLength(2);
  expect(lines[1]).toContain(",intruder-e2e,127.0.0.1,login_failed,");

  // An operator reaches none of it.
  await admin.getByRole("link", { name: "Users" }).click();
  const newUser = admin.getByRole("region", { name: "New user" });
  await newUser.getByLabel("Username").fill("auditee");
  await newUser.getByLabel("Display name").fill("Auditee");
  await newUser.getByLabel("Password").fill("auditee-password");
  await newUser.getByRole("button", { name: "Create user" }).click();
  await expect(admin.getByRole("cell", { name: "auditee", exact: true })).toBeVisible();
  const operatorContext = await browser.newContext();
  const operator = await operatorContext.newPage();
  await open(operator, "/login");
  await signIn(operator, "auditee", "auditee-password");
  await expect(operator.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  await expect(operator.getByRole("link", { name: "Audit log" })).toHaveCount(0);
  const page = await operator.goto("/admin/audit");
  expect(page?.status()).toBe(403);
  const exported = await operator.request.get("/admin/audit/export.jsonl");
  expect(exported.status()).toBe(403);

  // And the refusals themselves are in the log.
  await admin.goto("/admin/audit?user=auditee&kind=access_denied");
  await expect(rows).toHaveCount(2);
});

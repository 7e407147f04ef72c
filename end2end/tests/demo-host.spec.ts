import { expect, test } from "@playwright/test";

// The server under test starts from an empty data directory with the
// embedded defaults, so the demo host is there for the first admin.
test("the first admin reaches a shell on the built-in demo host", async ({ page }) => {
  await page.goto("/login");
  await page.locator("body[data-hydrated]").waitFor();
  await page.getByLabel("Username").fill("admin");
  await page.getByLabel("Password").fill("e2e-admin-password");
  await page.getByRole("button", { name: "Sign in" }).click();

  const demo = page.getByRole("row").filter({ hasText: "Demo" }).filter({ hasText: "127.0.0.1" });
  await expect(demo).toHaveCount(1);
  await demo.getByRole("button", { name: "Login" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await page.locator(".xterm-helper-textarea").focus();
  await page.keyboard.type("echo demo-$((6*7))");
  await page.keyboard.press("Enter");
  await expect(page.locator(".xterm-rows")).toContainText("demo-42");
  await page.getByRole("button", { name: "Exit session" }).click();
  await expect(page.getByRole("status", { name: "Session status" })).toContainText("closed");
});

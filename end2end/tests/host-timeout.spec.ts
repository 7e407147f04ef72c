import { expect, test } from "@playwright/test";
import * as net from "node:net";

// A managed host that accepts TCP connections and never says a word.
function silentHost(): Promise<{ port: number; close: () => void }> {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({ port, close: () => { sockets.forEach((s) => s.destroy()); server.close(); } });
    }),
  );
}

test("a host that never answers shows T_514 on the session page", async ({ page }) => {
  const host = await silentHost();
  try {
    await page.goto("/login");
    await page.locator("body[data-hydrated]").waitFor();
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("e2e-admin-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("heading", { name: "Host Operations" })).toBeVisible();

    await page.goto("/admin/projects");
    await page.locator("body[data-hydrated]").waitFor();
    const projects = page.getByRole("region", { name: "New project" });
    await projects.getByLabel("Name").fill("silent-lab");
    await projects.getByRole("button", { name: "Create project" }).click();
    await expect(page.getByRole("cell", { name: "silent-lab", exact: true })).toBeVisible();

    await page.goto("/admin/hosts");
    const hosts = page.getByRole("region", { name: "New host" });
    await hosts.getByLabel("Project").selectOption({ label: "silent-lab" });
    await hosts.getByLabel("Name").fill("silent");
    await hosts.getByLabel("Address").fill("127.0.0.1");
    await hosts.getByLabel("Port").fill(String(host.port));
    await hosts.getByLabel("Host key").fill("SHA256:ZdGhPu9iyDjgNlz29Z/65T74pComI7ZsenXXUp6+NoI");
    await hosts.getByRole("button", { name: "Create host" }).click();
    await expect(page.getByRole("cell", { name: "silent", exact: true })).toBeVisible();

    await page.goto("/admin/host-accounts");
    const accounts = page.getByRole("region", { name: "New host account" });
    await accounts.getByLabel("Host").selectOption({ label: "silent (silent-lab)" });
    await accounts.getByLabel("Login").fill("ops");
    await accounts.getByLabel("Secret", { exact: true }).fill("ops-password");
    await accounts.getByRole("button", { name: "Create account" }).click();
    await expect(page.getByRole("cell", { name: "ops", exact: true })).toBeVisible();

    await page.goto("/admin/grants");
    const grants = page.getByRole("region", { name: "New grant" });
    await grants.getByLabel("User").selectOption({ label: "admin" });
    await grants.getByLabel("Host account").selectOption({ label: "ops@silent (silent-lab)" });
    await grants.getByRole("button", { name: "Grant" }).click();
    await expect(page.getByRole("cell", { name: "ops@silent (silent-lab)" })).toBeVisible();

    await page.goto("/operation/hosts");
    await page.locator("body[data-hydrated]").waitFor();
    await page.getByRole("row").filter({ hasText: "silent" }).getByRole("button", { name: "Login" }).click();
    await expect(page).toHaveURL(/\/sessions\/\d+$/);
    await expect(page.getByRole("status", { name: "Session status" })).toHaveText(
      "Connection error (T_514): the server has not responded for a long time and the connection was closed. Check your network and try again.",
    );
    await expect(page.getByRole("button", { name: "Exit session" })).toHaveCount(0);
  } finally {
    host.close();
  }
});

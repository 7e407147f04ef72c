import { expect, test, type Page, type WebSocketRoute } from "@playwright/test";
import { open, signIn, terminalText, typeLine } from "../pages";
import { startSshd, type TestSshd } from "../sshd";

const ADMIN_PASSWORD = "e2e-admin-password";
let sshd: TestSshd;

test.beforeAll(async () => {
  sshd = await startSshd();
});
test.afterAll(() => sshd?.stop());

async function logIn(page: Page, username: string, password: string) {
  await open(page, "/login");
  await signIn(page, username, password);
  await expect(page.getByRole("heading", { name: "Host Operations" })).toBeVisible();
}

/// The admin adds the test sshd as a host (confirming its key with Fetch
/// host key), an account on it, and grants it to themselves.
async function addTestHost(page: Page, hostName: string) {
  await open(page, "/admin/projects");
  const projects = page.getByRole("region", { name: "New project" });
  await projects.getByLabel("Name").fill(`lab-${hostName}`);
  await projects.getByRole("button", { name: "Create project" }).click();
  await expect(page.getByRole("cell", { name: `lab-${hostName}`, exact: true })).toBeVisible();

  await open(page, "/admin/hosts");
  const hosts = page.getByRole("region", { name: "New host" });
  await hosts.getByLabel("Project").selectOption({ label: `lab-${hostName}` });
  await hosts.getByLabel("Name").fill(hostName);
  await hosts.getByLabel("Address").fill("127.0.0.1");
  await hosts.getByLabel("Port").fill(String(sshd.port));
  await hosts.getByRole("button", { name: "Fetch host key" }).click();
  await expect(hosts.getByRole("status")).toContainText(sshd.fingerprint);
  await expect(hosts.getByLabel("Host key")).toHaveValue(sshd.fingerprint);
  await hosts.getByRole("button", { name: "Create host" }).click();
  await expect(page.getByRole("cell", { name: hostName, exact: true })).toBeVisible();

  await open(page, "/admin/host-accounts");
  const accounts = page.getByRole("region", { name: "New host account" });
  await accounts.getByLabel("Host").selectOption({ label: `${hostName} (lab-${hostName})` });
  await accounts.getByLabel("Login").fill(sshd.user);
  await accounts.getByLabel("Secret", { exact: true }).fill(sshd.password);
  await accounts.getByRole("button", { name: "Create account" }).click();

  await open(page, "/admin/grants");
  const grants = page.getByRole("region", { name: "New grant" });
  await grants.getByLabel("User").selectOption({ label: "admin" });
  await grants.getByLabel("Host account").selectOption({ label: `${sshd.user}@${hostName} (lab-${hostName})` });
  await grants.getByRole("button", { name: "Grant" }).click();
  await expect(page.getByRole("cell", { name: `${sshd.user}@${hostName} (lab-${hostName})` })).toBeVisible();
}


test("an operator works in a real shell in the browser", async ({ page }) => {
  await logIn(page, "admin", ADMIN_PASSWORD);
  await addTestHost(page, "sshd-1");

  await open(page, "/operation/hosts");
  await page.getByRole("row").filter({ hasText: "sshd-1" }).getByRole("button", { name: "Login" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await expect(page.getByRole("heading", { name: `${sshd.user}@sshd-1` })).toBeVisible();

  await typeLine(page, "echo $((6*7))");
  await expect(terminalText(page)).toContainText("42");

  await typeLine(page, "echo 中文 ✓ 🚀");
  await expect(terminalText(page)).toContainText("中文 ✓ 🚀");

  // A full-screen program, then the shell's screen back.
  await typeLine(page, "clear; echo before-vim");
  await typeLine(page, "vim -u NONE");
  await expect(terminalText(page)).toContainText("~");
  await expect(terminalText(page)).not.toContainText("before-vim");
  await page.keyboard.type(":q");
  await page.keyboard.press("Enter");
  await expect(terminalText(page)).toContainText("before-vim");

  // The PTY follows the browser window.
  const first = await sttySize(page, "before");
  await page.setViewportSize({ width: 700, height: 500 });
  const second = await sttySize(page, "after");
  expect(second.cols).toBeLessThan(first.cols);
  expect(second.rows).toBeLessThan(first.rows);

  // A reload within the grace period comes back to the same shell.
  await typeLine(page, "export MARK=still-here");
  await page.reload();
  await typeLine(page, "echo $MARK");
  await expect(terminalText(page)).toContainText("still-here");

  await page.getByRole("button", { name: "Exit session" }).click();
  await expect(page.getByRole("status", { name: "Session status" })).toContainText("closed");

  // A session that ends after its page rendered but before the page's
  // socket attached (Tandem then refuses the socket with 410, which a
  // browser does not see): the page shows the stored end message, never an
  // offer to reconnect. The socket is held here until the session is over.
  let held: WebSocketRoute | undefined;
  await page.routeWebSocket(/\/sessions\/\d+\/terminal$/, (socket) => {
    held = socket;
  });
  await open(page, "/operation/hosts");
  await page.getByRole("row").filter({ hasText: "sshd-1" }).getByRole("button", { name: "Login" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await expect.poll(() => held !== undefined).toBe(true);
  const id = page.url().match(/\/sessions\/(\d+)$/)![1];
  const origin = new URL(page.url()).origin;
  const exited = await page.request.post("/api/exit_session", { form: { id }, headers: { Origin: origin } });
  expect(exited.status()).toBe(200);
  await held!.close();
  const status = page.getByRole("status", { name: "Session status" });
  await expect(status).toContainText("closed by its creator");
  await expect(status).not.toContainText("Connection lost");
});

/// The PTY's size as `stty size` reports it, tagged to tell runs apart.
async function sttySize(page: Page, tag: string): Promise<{ rows: number; cols: number }> {
  await typeLine(page, `echo "${tag}:$(stty size)."`);
  const pattern = new RegExp(`${tag}:(\\d+)\\s(\\d+)\\.`);
  await expect(terminalText(page)).toContainText(pattern);
  const match = (await terminalText(page).textContent())!.match(pattern)!;
  return { rows: Number(match[1]), cols: Number(match[2]) };
}

test("a page whose connection drops picks it up again and goes on without a redraw", async ({ page }) => {
  // Every terminal socket of the page goes through here, so that the test
  // can drop one and see what the server sends on the next.
  const sockets: { frames: Buffer[]; drop: () => Promise<void> }[] = [];
  await page.routeWebSocket(/\/sessions\/\d+\/terminal$/, (socket) => {
    const server = socket.connectToServer();
    const frames: Buffer[] = [];
    socket.onMessage((message) => server.send(message));
    server.onMessage((message) => {
      frames.push(Buffer.from(message));
      socket.send(message);
    });
    sockets.push({
      frames,
      drop: async () => {
        await server.close();
        await socket.close();
      },
    });
  });
  await logIn(page, "admin", ADMIN_PASSWORD);
  await addTestHost(page, "sshd-3");
  await open(page, "/operation/hosts");
  await page.getByRole("row").filter({ hasText: "sshd-3" }).getByRole("button", { name: "Login" }).click();
  await expect(page).toHaveURL(/\/sessions\/\d+$/);
  await typeLine(page, "echo before-$((1+1))");
  await expect(terminalText(page)).toContainText("before-2");

  await sockets[0].drop();
  await expect.poll(() => sockets.length).toBe(2);
  await typeLine(page, "echo after-$((2+2))");
  await expect(terminalText(page)).toContainText("after-4");
  await expect(terminalText(page)).toContainText("before-2");
  const status = page.getByRole("status", { name: "Session status" });
  await expect(status).toHaveText("");
  // The new socket was sent what followed, not the screen again.
  const resets = sockets[1].frames.filter((frame) => frame.toString("latin1").includes('"type":"reset"'));
  expect(resets).toHaveLength(0);
});

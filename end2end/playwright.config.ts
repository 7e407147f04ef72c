import { defineConfig } from "@playwright/test";

// The built server (build_site in scripts/tools.sh) on its own port with a fresh data
// directory; Debian's Chromium, since Playwright's own browser download is
// not available offline.
const port = Number(process.env.TANDEM_E2E_PORT ?? 3100);
const dataDir = process.env.TANDEM_E2E_DATA_DIR ?? "target/e2e-data";
// A real SMTP server (aiosmtpd, from PyPI, installed by scripts/test) that
// keeps what Tandem mails in a Maildir the tests read.
const smtpPort = Number(process.env.TANDEM_E2E_SMTP_PORT ?? 3125);
const smtpPython = process.env.TANDEM_SMTP_PYTHON ?? "python3";
const mailDir = "target/e2e-mail";

export default defineConfig({
  testDir: "./tests",
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: true,
  reporter: [["list"]],
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    },
  },
  webServer: [
    {
      command: `rm -rf ${mailDir} && exec ${smtpPython} -m aiosmtpd -n -l 127.0.0.1:${smtpPort} -c aiosmtpd.handlers.Mailbox ${mailDir}`,
      cwd: "..",
      port: smtpPort,
      reuseExistingServer: false,
      timeout: 30_000,
    },
    {
      command: `rm -rf ${dataDir} && exec target/debug/tandem serve`,
      cwd: "..",
      url: `http://127.0.0.1:${port}/login`,
      reuseExistingServer: false,
      timeout: 60_000,
      stdout: "pipe",
      env: {
        TANDEM_ADDR: `127.0.0.1:${port}`,
        TANDEM_PUBLIC_URL: `http://127.0.0.1:${port}`,
        TANDEM_DATA_DIR: dataDir,
        TANDEM_ADMIN_PASSWORD: "e2e-admin-password",
        // Short, so the T_514 journey does not wait the default 10 s.
        TANDEM_CONNECT_TIMEOUT_SECS: "2",
        TANDEM_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
        LEPTOS_SITE_ROOT: "target/site",
        RUST_LOG: "warn",
      },
    },
  ],
});

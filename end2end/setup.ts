// Setting up hosts and users for the browser tests, as the admin, through
// the same server functions the admin pages use.
import { expect, type APIRequestContext } from "@playwright/test";
import { type TestSshd } from "./sshd";

/// The Origin a browser sends with a POST from Tandem's pages; Tandem
/// refuses a POST without one (the port is playwright.config.ts's).
export const ORIGIN = `http://127.0.0.1:${Number(process.env.TANDEM_E2E_PORT ?? 3100)}`;

/// Calls a server function as the signed-in user of `request`.
export async function call(request: APIRequestContext, endpoint: string, form: Record<string, string>) {
  const response = await request.post(`/api/${endpoint}`, {
    form,
    headers: { Accept: "application/json", Origin: ORIGIN },
  });
  expect(response.ok(), `${endpoint}: ${await response.text()}`).toBeTruthy();
  return response.json();
}

/// The id of the record of a listing whose `field` is `value`.
export async function idWhere(request: APIRequestContext, listing: string, field: string, value: string) {
  const records: Array<Record<string, unknown>> = await call(request, listing, {});
  const record = records.find((r) => r[field] === value);
  expect(record, `${value} in ${listing}`).toBeDefined();
  return String(record!.id);
}

/// The test sshd as `host` in a new `project`; new operators `users`
/// (`[user name, display name]`, password `<user name>-password`); the
/// host's account granted to each user named in `granted`.
export async function addHost(
  admin: APIRequestContext,
  sshd: TestSshd,
  setup: { project: string; host: string; users: Array<[string, string]>; granted: string[] },
) {
  await call(admin, "admin/create_project", { name: setup.project, description: "" });
  const project = await idWhere(admin, "admin/list_projects", "name", setup.project);
  await call(admin, "admin/create_host", {
    project_id: project,
    name: setup.host,
    address: "127.0.0.1",
    port: String(sshd.port),
    host_key: sshd.fingerprint,
  });
  const host = await idWhere(admin, "admin/list_hosts", "name", setup.host);
  await call(admin, "admin/create_host_account", {
    host_id: host,
    login: sshd.user,
    secret_kind: "password",
    secret: sshd.password,
  });
  const account = await idWhere(admin, "admin/list_host_accounts", "host_name", setup.host);
  for (const [name, display] of setup.users) {
    await call(admin, "admin/create_user", {
      username: name,
      display_name: display,
      role: "operator",
      password: `${name}-password`,
    });
  }
  for (const name of setup.granted) {
    const user = await idWhere(admin, "admin/list_users", "username", name);
    await call(admin, "admin/create_grant", { user_id: user, host_account_id: account });
  }
}

// Helpers shared by the browser tests: pages, signing in and the terminal.
import { expect, type Browser, type Page } from "@playwright/test";

/// Opens a page and waits until it is interactive (hydrated).
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("body[data-hydrated]").waitFor();
}

/// A page in a browser context of its own, signed in, on Host Operations.
export async function signedIn(browser: Browser, username: string, password: string): Promise<Page> {
  const page = await (await browser.newContext()).newPage();
  await open(page, "/login");
  await signIn(page, username, password);
  await expect(page.getByRole("heading", { name: "Host Operations" })).toBeVisible();
  return page;
}

/// Fills and submits the sign-in form of the current page.
export async function signIn(page: Page, username: string, password: string) {
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/// The text the terminal shows.
export const terminalText = (page: Page) => page.locator(".xterm-rows");

/// Types a line into the terminal and presses Enter.
export async function typeLine(page: Page, line: string) {
  await page.locator(".xterm-helper-textarea").focus();
  await page.keyboard.type(line);
  await page.keyboard.press("Enter");
}

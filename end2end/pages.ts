// Helpers shared by the browser tests: pages, signing in and the terminal.
import { type Page } from "@playwright/test";

/// Opens a page and waits until it is interactive (hydrated).
export async function open(page: Page, url: string) {
  await page.goto(url);
  await page.locator("body[data-hydrated]").waitFor();
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

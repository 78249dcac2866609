import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { startGatehouse, type RunningGatehouse } from './gatehouse.ts';
import { startCallbackServer, type CallbackServer } from './callback_server.ts';

/**
 * Debian's Chromium, driven by playwright-core (no browser download). The flags keep it from
 * reaching for the network on its own, which this machine refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

// GATEHOUSE_SCREENSHOTS=1 refreshes the pictures in docs/; otherwise they go to a temporary folder.
const SHOTS = process.env.GATEHOUSE_SCREENSHOTS ? fileURLToPath(new URL('../../docs/', import.meta.url)) : tmpdir();

/** Where a screenshot of the README (docs/NAME) is written. */
export function screenshotPath(name: string): string {
  return join(SHOTS, name);
}

/** Fills Gatehouse's login page in and clicks Sign in. */
export async function fillLogin(page: Page, username: string, password: string): Promise<void> {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** What a page saw go wrong: CSP violations Chromium reported, and failed requests to Gatehouse. */
export interface WatchedPage {
  page: Page;
  violations: string[];
  failures: string[];
}

/** A page in a fresh browser context that notes every CSP violation and every 4xx/5xx from `origin`. */
export async function watchedPage(browser: Browser, origin: string, options: BrowserContextOptions = {}): Promise<WatchedPage> {
  const page = await (await browser.newContext(options)).newPage();
  const violations: string[] = [];
  const failures: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to/i.test(message.text())) violations.push(message.text());
  });
  page.on('response', (response) => {
    if (response.status() >= 400 && response.url().startsWith(origin)) failures.push(`${response.status()} ${response.url()}`);
  });
  return { page, violations, failures };
}

/** Gatehouse, Chromium and the application's web server, for a browser test file. */
export interface BrowserScene {
  gh: RunningGatehouse;
  browser: Browser;
  callback: CallbackServer;
  close(): Promise<void>;
}

/** Starts them one after the other, so that a failed start closes what had started (an open Chromium keeps jest waiting). */
export async function startBrowserScene(): Promise<BrowserScene> {
  const started: { close(): Promise<void> }[] = [];
  const close = async () => {
    for (const part of started.reverse()) await part.close();
  };
  try {
    const gh = await startGatehouse({ database: 'postgres', redis: true });
    started.push(gh);
    const browser = await launchChromium();
    started.push(browser);
    const callback = await startCallbackServer();
    started.push(callback);
    return { gh, browser, callback, close };
  } catch (error) {
    await close();
    throw error;
  }
}

// Which Chromium the browser tests drive, and with what flags: Debian's chromium through playwright-core (no
// browser downloaded), WebGL through SwiftShader. scripts/test.mjs starts one for the whole suite
// (launchSuiteBrowser); test/browser.ts connects to it, or launches one of its own.

import { existsSync } from 'node:fs';
import { chromium, type BrowserServer } from 'playwright-core';
import { SWIFTSHADER_FLAGS } from '../compiler/cli/gpucheck.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
/** What the suite's Chromium and a file's own are launched with. */
export const BROWSER_ARGS = ['--no-sandbox', ...SWIFTSHADER_FLAGS];

/**
 * The suite's Chromium: undefined where none is installed (the browser tests then skip, saying so). Its
 * address goes to the test processes in GRADC_TEST_BROWSER.
 */
export async function launchSuiteBrowser(): Promise<BrowserServer | undefined> {
  return CHROMIUM ? chromium.launchServer({ executablePath: CHROMIUM, args: BROWSER_ARGS }) : undefined;
}

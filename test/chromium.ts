// Which Chromium the browser tests drive, and with what flags: Debian's chromium through playwright-core (no
// browser downloaded). Two kinds: `webgl`, with WebGL2 through SwiftShader for the gpu.js pages, and `plain`
// for every other page — the SwiftShader flags also move a page's compositing onto SwiftShader, which made
// the report pages 20 % dearer. scripts/test.mjs starts one of each kind the chosen files need
// (launchSuiteBrowsers); test/browser.ts connects to it, or launches one of its own.

import { chromium, type BrowserServer } from 'playwright-core';
import { installedChromium, SWIFTSHADER_FLAGS } from '../compiler/cli/gpucheck.js';

/** The one `gradc gpucheck` finds, the same way. */
export const CHROMIUM = installedChromium();
export type BrowserKind = 'plain' | 'webgl';
export const BROWSER_ARGS: Record<BrowserKind, string[]> = { plain: ['--no-sandbox'], webgl: ['--no-sandbox', ...SWIFTSHADER_FLAGS] };
/** The environment variable that hands a test process the address of the suite's browser of a kind. */
export const browserVariable = (kind: BrowserKind) => `GRADC_TEST_BROWSER_${kind.toUpperCase()}`;

/**
 * Which kinds of browser a test file's source asks for: `browser('webgl')` (or the WebGL kernel check of
 * test/web-helpers.ts) and `browser()`.
 */
export function kindsUsedBy(source: string): BrowserKind[] {
  return [...(/\bbrowser\(\)/.test(source) ? ['plain' as const] : []), ...(/\bbrowser\('webgl'\)|web-helpers\.js'/.test(source) ? ['webgl' as const] : [])];
}

/**
 * The suite's browsers, one per kind asked for, as environment variables with their addresses; none where
 * Chromium is not installed (the browser tests then skip, saying so).
 */
export async function launchSuiteBrowsers(kinds: ReadonlySet<BrowserKind>): Promise<{ env: Record<string, string>; close(): Promise<void> }> {
  const servers: [BrowserKind, BrowserServer][] = [];
  // Ctrl-C is scripts/test.mjs's to handle: it stops the tests first, then closes these.
  const options = { executablePath: CHROMIUM, handleSIGINT: false, handleSIGTERM: false };
  if (CHROMIUM) for (const kind of kinds) servers.push([kind, await chromium.launchServer({ ...options, args: BROWSER_ARGS[kind] })]);
  return {
    env: Object.fromEntries(servers.map(([kind, s]) => [browserVariable(kind), s.wsEndpoint()])),
    close: async () => { for (const [, s] of servers) await s.close(); },
  };
}

// The Chromium a browser test drives. `npm test` starts one of each kind for the whole suite
// (scripts/test.mjs) and hands its address to every test process: a launch, with its GPU process's first
// context, costs 2–2.5 s of CPU, and six test files used to pay it each. A file run on its own
// (`node --import tsx --test test/report.test.ts`) launches its own, with the same flags (test/chromium.ts).

import { after } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { BROWSER_ARGS, browserVariable, CHROMIUM, type BrowserKind } from './chromium.js';

/** The `skip` option of a test that needs Chromium. */
export const skipBrowser = CHROMIUM ? false : 'no chromium installed (apt-get install chromium)';

const opened = new Map<BrowserKind, Promise<Browser>>();
// Registered here, at the top level, so that it runs after every test of the process (a hook registered
// inside a test would run after that test alone).
after(async () => { for (const b of opened.values()) await (await b).close(); });

/**
 * This process's connection to a Chromium of the kind (`webgl` for gpu.js pages), made on first use and
 * closed when its tests are done. Tests close the pages they open, never the browser: other test processes
 * may be using it.
 */
export function browser(kind: BrowserKind = 'plain'): Promise<Browser> {
  let b = opened.get(kind);
  if (!b) {
    const address = process.env[browserVariable(kind)];
    b = address ? chromium.connect(address) : chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS[kind] });
    opened.set(kind, b);
  }
  return b;
}

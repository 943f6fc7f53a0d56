/** gradc's `main(argv)` (bin/load-main.js), resolving to the exit status. */
export function loadMain(): Promise<(argv: readonly string[]) => Promise<number>>;

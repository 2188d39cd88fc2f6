/**
 * Scan modes: `full` checks every project's hooks and updates every item; `incremental` leaves
 * alone what did not change. `auto` (a choice, never a stored mode) resolves at launch: `full`
 * when no full sync COMPLETED within SYNC_FULL_EVERY_HOURS, else `incremental`. Configuration
 * (SYNC_MODE), the API (`?mode=`), the CLI (`--mode`) and the job repository share these names.
 */
export const SCAN_MODES = ["full", "incremental"] as const;
export type ScanMode = (typeof SCAN_MODES)[number];
export const MODE_CHOICES = ["auto", ...SCAN_MODES] as const;
export type SyncModeChoice = (typeof MODE_CHOICES)[number];

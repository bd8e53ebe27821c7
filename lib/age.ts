/** Ages on command lines ("30d", "12h", "90s", "500ms"), shared by the relay's and the core's flags. */

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds, or undefined when `text` is not a whole positive number with one of the units. */
export function parseAge(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * UNITS_MS[match[2]!]!;
  return Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

/** The largest whole unit that states `ms` exactly: 2592000000 → "30d". */
export function formatAge(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) if (ms % UNITS_MS[unit]! === 0) return `${ms / UNITS_MS[unit]!}${unit}`;
  return `${ms}ms`;
}

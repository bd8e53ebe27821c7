/** Sizes for people: `1.5 MiB` in output, and `10MiB`, `500kB` or `0` as a setting's value. */

const BINARY_UNITS = ['KiB', 'MiB', 'GiB', 'TiB'] as const;

/** `512 B`, `1.5 KiB`, `100 MiB` (one decimal below 10, none above; binary units, as the limits are). */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  let value = n;
  let unit = -1;
  while (value >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, '') : String(Math.round(value));
  return `${shown} ${BINARY_UNITS[unit]}`;
}

const MULTIPLIERS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gib: 1024 ** 3,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
};

/**
 * `10MiB`, `10 MiB`, `1.5GiB`, `500kB`, `1048576`: a whole number of bytes, or a sentence
 * saying what is wrong. K, M, G alone are binary (KiB, MiB, GiB); kB, MB, GB decimal.
 */
export function parseBytes(text: string): number | string {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const multiplier = match ? MULTIPLIERS[match[2]!.toLowerCase()] : undefined;
  if (!match || multiplier === undefined) return `a size is a number of bytes, optionally with a unit (B, KiB, MiB, GiB, kB, MB, GB), e.g. 10MiB; got "${text}"`;
  const bytes = Math.round(Number(match[1]) * multiplier);
  if (!Number.isSafeInteger(bytes)) return `"${text}" is too large`;
  return bytes;
}

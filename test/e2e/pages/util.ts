/** Shared helpers for the page objects. */

/** A RegExp matching `text` exactly (whole string, trimmed by Playwright's text matching). */
export function exact(text: string): RegExp {
  return new RegExp(`^\\s*${escapeRegExp(text)}\\s*$`);
}

export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A CSS attribute-value literal (double-quoted, escaped). */
export function cssString(s: string): string {
  return JSON.stringify(s);
}

/**
 * A one-line progress bar on stderr while files move (`send --attach`, `download`). Only on a
 * terminal: a pipe, a file or `--json` gets nothing, so scripts and logs never see carriage
 * returns. The line is redrawn in place (`\r`, then erase to the end of the line) only when
 * what it shows changes, and never wider than the terminal, so it cannot wrap and scroll.
 */
import { safeLine } from '../../lib/text-safety';
import { formatBytes } from './bytes';

/** What the bar writes to: process.stderr, or in tests any Writable given isTTY and columns. */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): boolean;
}

export interface ProgressStep {
  /** The file's position among `count`, from 0. */
  index: number;
  count: number;
  /** The file's name as its sender gave it (peer text: made inert here). */
  name: string;
  transferred: number;
  size: number;
}

const ERASE_LINE = '\u001b[K';
const DEFAULT_COLUMNS = 80;
const MIN_BAR = 10;
const MAX_BAR = 30;

/** `[##########----------]`: `cells` wide, filled in proportion. */
export function barCells(fraction: number, cells: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * cells);
  return `[${'#'.repeat(filled)}${'-'.repeat(cells - filled)}]`;
}

/** The line for one step, at most `columns - 1` characters (the last column would wrap on some terminals). */
export function progressLine(verb: string, step: ProgressStep, columns: number): string {
  const fraction = step.size === 0 ? 1 : step.transferred / step.size;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const amount = `${formatBytes(step.transferred)}/${formatBytes(step.size)}`;
  const of = step.count > 1 ? ` (${step.index + 1}/${step.count})` : '';
  const width = Math.max(20, columns - 1);
  // Everything but the name and the bar's cells: `<verb> (i/n) [] 45% 4.5 MiB/10 MiB`.
  const available = width - (verb.length + of.length + 3 + 1 + percent.length + 1 + amount.length);
  const cells = Math.max(MIN_BAR, Math.min(MAX_BAR, available - 16));
  const room = available - cells - 1;
  const name = room >= 4 ? ` ${safeLine(step.name, room)}` : '';
  const line = `${verb}${name}${of} ${barCells(fraction, cells)} ${percent} ${amount}`;
  return line.length > width ? line.slice(0, width) : line;
}

export class ProgressBar {
  private last = '';

  private constructor(
    private readonly stream: ProgressStream,
    private readonly verb: string,
  ) {}

  /** A bar on `stream` when it is a terminal and the output is for a person; undefined otherwise. */
  static open(stream: ProgressStream, verb: string, options: { json: boolean }): ProgressBar | undefined {
    return stream.isTTY === true && !options.json ? new ProgressBar(stream, verb) : undefined;
  }

  update(step: ProgressStep): void {
    // A pseudo-terminal without a size says 0 columns.
    const line = progressLine(this.verb, step, this.stream.columns || DEFAULT_COLUMNS);
    if (line === this.last) return;
    this.last = line;
    this.stream.write(`\r${line}${ERASE_LINE}`);
  }

  /** Erases the bar, so the verdict or the paths print on a clean line. */
  done(): void {
    if (this.last === '') return;
    this.last = '';
    this.stream.write(`\r${ERASE_LINE}`);
  }
}

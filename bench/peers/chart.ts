/**
 * The peer comparison as a picture: two grouped bar charts side by side, messages per second
 * and p99 latency, one group per window and one bar per system. Hand-written SVG (no fonts to
 * embed, no library): a reader of docs/benchmarks.md sees it without running anything.
 */
import { SYSTEMS, SYSTEM_LABELS, type SystemName, type SystemRun } from './compare';

const COLOURS: Record<SystemName, string> = {
  switchboard: '#2f6fdf',
  'mosquitto-ws': '#e0892b',
  'mosquitto-tcp': '#f2c185',
  jetstream: '#3aa676',
};

const PANEL_W = 360;
const PANEL_H = 220;
const MARGIN = { top: 40, right: 16, bottom: 36, left: 56 };
const LEGEND_H = 24 * SYSTEMS.length;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A round axis maximum at or above `max`: 1, 2 or 5 times a power of ten (1 when nothing is above 0). */
export function niceCeiling(max: number): number {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 5, 10]) if (step * power >= max) return step * power;
  return 10 * power;
}

function formatValue(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(1);
}

interface Panel {
  title: string;
  unit: string;
  value: (run: SystemRun) => number | undefined;
}

function panel(runs: readonly SystemRun[], windows: readonly number[], spec: Panel, x0: number): string {
  const plotW = PANEL_W - MARGIN.left - MARGIN.right;
  const plotH = PANEL_H - MARGIN.top - MARGIN.bottom;
  const values = runs.map(spec.value).filter((v): v is number => v !== undefined);
  const top = niceCeiling(Math.max(0, ...values));
  const groupW = plotW / windows.length;
  const barW = (groupW * 0.8) / SYSTEMS.length;
  const y = (v: number) => MARGIN.top + plotH - (v / top) * plotH;
  const parts: string[] = [`<g transform="translate(${x0},0)">`];
  parts.push(`<text x="${PANEL_W / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    const ty = y(top * tick).toFixed(1);
    parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
    const label = top >= 10 ? Math.round(top * tick).toLocaleString('en-US') : (top * tick).toFixed(2);
    parts.push(`<text x="${MARGIN.left - 6}" y="${ty}" text-anchor="end" dominant-baseline="middle" font-size="10">${escapeXml(label)}</text>`);
  }
  parts.push(`<text x="12" y="${MARGIN.top + plotH / 2}" font-size="10" transform="rotate(-90 12 ${MARGIN.top + plotH / 2})" text-anchor="middle">${escapeXml(spec.unit)}</text>`);
  windows.forEach((window, g) => {
    const gx = MARGIN.left + g * groupW + groupW * 0.1;
    SYSTEMS.forEach((system, s) => {
      const run = runs.find((r) => r.system === system && r.window === window);
      const bx = (gx + s * barW).toFixed(1);
      const v = run ? spec.value(run) : undefined;
      if (v === undefined) {
        parts.push(`<text x="${(gx + (s + 0.5) * barW).toFixed(1)}" y="${MARGIN.top + plotH - 4}" text-anchor="middle" font-size="9" fill="#999">n/a</text>`);
        return;
      }
      const by = y(v);
      parts.push(`<rect data-system="${system}" data-window="${window}" x="${bx}" y="${by.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(MARGIN.top + plotH - by).toFixed(1)}" fill="${COLOURS[system]}"><title>${escapeXml(`${SYSTEM_LABELS[system]}, ${window} in flight: ${formatValue(v)} ${spec.unit}`)}</title></rect>`);
      parts.push(`<text x="${(gx + (s + 0.5) * barW - 1).toFixed(1)}" y="${(by - 3).toFixed(1)}" text-anchor="middle" font-size="9">${escapeXml(formatValue(v))}</text>`);
    });
    parts.push(`<text x="${(MARGIN.left + (g + 0.5) * groupW).toFixed(1)}" y="${MARGIN.top + plotH + 18}" text-anchor="middle" font-size="11">${window} in flight</text>`);
  });
  parts.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${MARGIN.top + plotH}" y2="${MARGIN.top + plotH}" stroke="#333"/>`);
  parts.push('</g>');
  return parts.join('\n');
}

/** The whole chart: throughput on the left, p99 on the right, the legend below both. */
export function peerChartSvg(runs: readonly SystemRun[], windows: readonly number[]): string {
  const width = PANEL_W * 2;
  const height = PANEL_H + LEGEND_H + 8;
  const legend = SYSTEMS.map(
    (system, i) =>
      `<rect x="${MARGIN.left}" y="${PANEL_H + 4 + i * 24}" width="14" height="14" fill="${COLOURS[system]}"/><text x="${MARGIN.left + 20}" y="${PANEL_H + 15 + i * 24}" font-size="12">${escapeXml(SYSTEM_LABELS[system])}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    panel(runs, windows, { title: 'Messages per second (higher is better)', unit: 'msg/s', value: (r) => r.figures?.perSecond }, 0),
    panel(runs, windows, { title: 'Latency p99, send → arrival (lower is better)', unit: 'ms', value: (r) => r.figures?.p99Ms }, PANEL_W),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}

/**
 * The session timeline chart: one lane per host (or account), sessions as bars over the pack window,
 * drawn on landscape pages and split across pages when the lanes do not fit on one.
 */
import { formatTime, type Timeline, type TimelineBar, type TimelineLane } from '../render-model.ts';
import { INK, MUTED, PAGE_MARGIN, type PdfWriter, RULE } from './pdf-writer.ts';
import { timeAxisTicks } from './time-axis.ts';

const LANE_HEIGHT = 15;
const BAR_HEIGHT = 9;
const LABEL_WIDTH = 120;
const AXIS_HEIGHT = 24;
const LEGEND_HEIGHT = 26;
/** Bars shorter than this are widened so a five-minute session in a quarter still shows. */
const MIN_BAR = 1.4;

const PRIVILEGED = '#e3873d';
const UNPRIVILEGED = '#9aa6b2';
const ELEVATED = '#9d1c20';
const ORPHAN = '#1d4e89';
const GAP = '#dfe3e8';

/**
 * Draws the chart on as many landscape pages as its lanes need; the caller has opened the section
 * on a fresh landscape page.
 */
export function drawTimeline(w: PdfWriter, timeline: Timeline, sessionCount: number): void {
  const lanes = timeline.lanes;
  const describe =
    `Timeline of ${sessionCount} sessions in ${lanes.length} lanes (one per ${timeline.laneBy}) ` +
    `from ${formatTime(new Date(timeline.from).toISOString())} to ${formatTime(new Date(timeline.to).toISOString())}.`;
  w.paragraph(
    `${describe} Each bar is a session; orange bars are privileged, grey bars are not; the dark band on a bar ` +
      'is the time its elevated token (the elevated half of a UAC pair) was open. A bar that touches the left ' +
      'or right edge with an arrow began before the window or was still open at its end. Blue diamonds are ' +
      'orphan activity: events that no logon in the data explains.',
    { size: 8.5, color: MUTED },
  );
  if (lanes.length === 0) {
    w.paragraph('No session and no orphan activity in the window.');
    return;
  }
  // Plan the pages first so that each part can say "part N of M": the first page has less room.
  const firstFit = Math.max(1, lanesPerPage(w.room));
  const fullFit = Math.max(1, lanesPerPage(w.bottom - PAGE_MARGIN.top));
  const slices: TimelineLane[][] = [lanes.slice(0, firstFit)];
  for (let i = firstFit; i < lanes.length; i += fullFit) slices.push(lanes.slice(i, i + fullFit));
  slices.forEach((slice, i) => {
    if (i > 0) w.newPage('landscape');
    const partLabel = slices.length > 1 ? `part ${i + 1} of ${slices.length}` : '';
    const alt =
      `${describe} ${partLabel ? `${partLabel}: ` : ''}` +
      `lanes ${slice.map((l) => `${l.label} (${l.bars.length} sessions, ${l.orphans.length} orphan groups, ${l.gaps.length} coverage gaps)`).join('; ')}.`;
    w.tagged('Figure', () => drawPart(w, timeline, slice, partLabel), { alt });
  });
}

function lanesPerPage(room: number): number {
  return Math.floor((room - LEGEND_HEIGHT - AXIS_HEIGHT - 8) / LANE_HEIGHT);
}

function drawPart(w: PdfWriter, t: Timeline, lanes: readonly TimelineLane[], partLabel: string): void {
  const doc = w.doc;
  const left = w.left;
  const plotLeft = left + LABEL_WIDTH;
  const plotWidth = w.width - LABEL_WIDTH - 8;
  const plotRight = plotLeft + plotWidth;
  const xOf = (ms: number) => plotLeft + ((ms - t.from) / Math.max(1, t.to - t.from)) * plotWidth;

  drawLegend(w, w.y, partLabel);
  const axisTop = w.y + LEGEND_HEIGHT;
  const lanesTop = axisTop + AXIS_HEIGHT;
  const lanesBottom = lanesTop + lanes.length * LANE_HEIGHT;

  // Axis: about one label per 62 pt, enough for "03-01 12:00" at 6.5 pt with a gap.
  const { ticks } = timeAxisTicks(t.from, t.to, Math.max(2, Math.floor(plotWidth / 62)));
  w.drawLine(`${t.laneBy === 'host' ? 'Host' : 'Account'} / time (UTC)`, left, axisTop + 8, {
    role: 'bold',
    size: 7,
    color: MUTED,
  });
  lanes.forEach((_, i) => {
    if (i % 2 === 1)
      doc.rect(left, lanesTop + i * LANE_HEIGHT, plotRight - left, LANE_HEIGHT).fill('#f3f5f8');
  });
  for (const tick of ticks) {
    const x = xOf(tick.at);
    doc
      .moveTo(x, axisTop + 14)
      .lineTo(x, lanesBottom)
      .lineWidth(tick.major ? 0.6 : 0.3)
      .stroke(tick.major ? '#8c96a0' : '#d0d5db');
    const labelWidth = w.measure(tick.label, 'regular', 6.5);
    const lx = Math.min(Math.max(x - labelWidth / 2, plotLeft - 10), plotRight - labelWidth + 6);
    w.drawLine(tick.label, lx, axisTop + 4, { size: 6.5, color: tick.major ? INK : MUTED });
  }
  doc
    .rect(plotLeft, lanesTop, plotWidth, lanesBottom - lanesTop)
    .lineWidth(0.5)
    .stroke(RULE);

  lanes.forEach((lane, i) => {
    const top = lanesTop + i * LANE_HEIGHT;
    const label = fitLabel(w, lane.label, LABEL_WIDTH - 6, 7);
    w.drawLine(label, left, top + 4, { size: 7 });
    const barTop = top + (LANE_HEIGHT - BAR_HEIGHT) / 2;
    // Coverage gaps first, under the bars: a band where the host logged nothing.
    for (const gap of lane.gaps) {
      const x0 = xOf(gap.start);
      const x1 = Math.max(xOf(gap.end), x0 + 1);
      doc.rect(x0, top + 1, x1 - x0, LANE_HEIGHT - 2).fill(GAP);
    }
    // Unprivileged bars first so privileged ones stay visible where they overlap.
    const ordered = [...lane.bars].sort((a, b) => Number(a.privileged) - Number(b.privileged));
    for (const bar of ordered) drawBar(w, bar, xOf, barTop, plotLeft, plotRight);
    for (const mark of lane.orphans) {
      const x0 = xOf(mark.start);
      const x1 = Math.max(xOf(mark.end), x0);
      const cy = top + LANE_HEIGHT - 3;
      if (x1 - x0 > 2) doc.moveTo(x0, cy).lineTo(x1, cy).lineWidth(0.8).stroke(ORPHAN);
      diamond(w, x0, cy, 2.6);
    }
  });
  w.y = lanesBottom + 10;
}

function drawBar(
  w: PdfWriter,
  bar: TimelineBar,
  xOf: (ms: number) => number,
  top: number,
  plotLeft: number,
  plotRight: number,
): void {
  const doc = w.doc;
  let x0 = xOf(bar.start);
  let x1 = Math.max(xOf(bar.end), x0 + MIN_BAR);
  if (x1 > plotRight) {
    x0 = Math.max(plotLeft, x0 - (x1 - plotRight));
    x1 = plotRight;
  }
  const color = bar.privileged ? PRIVILEGED : UNPRIVILEGED;
  doc.rect(x0, top, x1 - x0, BAR_HEIGHT).fill(color);
  if (bar.elevated) {
    const e0 = xOf(bar.elevated.start);
    const e1 = Math.min(Math.max(xOf(bar.elevated.end), e0 + MIN_BAR), plotRight);
    doc.rect(e0, top + 1.5, e1 - e0, BAR_HEIGHT / 2 - 1).fill(ELEVATED);
  }
  const mid = top + BAR_HEIGHT / 2;
  if (bar.openStart) {
    // An arrow out of the left edge: the session began before what the window shows.
    doc
      .moveTo(plotLeft - 4, mid)
      .lineTo(plotLeft + 1, top - 1)
      .lineTo(plotLeft + 1, top + BAR_HEIGHT + 1)
      .closePath()
      .fill(color);
  }
  if (bar.openEnd) {
    doc
      .moveTo(x1 + 5, mid)
      .lineTo(x1, top - 1)
      .lineTo(x1, top + BAR_HEIGHT + 1)
      .closePath()
      .fill(color);
  }
}

function diamond(w: PdfWriter, x: number, y: number, r: number): void {
  w.doc
    .moveTo(x, y - r)
    .lineTo(x + r, y)
    .lineTo(x, y + r)
    .lineTo(x - r, y)
    .closePath()
    .fill(ORPHAN);
}

function drawLegend(w: PdfWriter, y: number, partLabel: string): void {
  const doc = w.doc;
  let x = w.left;
  const item = (draw: (x: number) => void, label: string) => {
    draw(x);
    x += 24;
    x += w.drawLine(label, x, y + 1, { size: 7.5 }) + 16;
  };
  const box = (color: string) => (at: number) => doc.rect(at, y + 1, 18, BAR_HEIGHT).fill(color);
  item(box(PRIVILEGED), 'privileged session');
  item(box(UNPRIVILEGED), 'unprivileged session');
  item((at) => {
    doc.rect(at, y + 1, 18, BAR_HEIGHT).fill(PRIVILEGED);
    doc.rect(at, y + 2.5, 18, BAR_HEIGHT / 2 - 1).fill(ELEVATED);
  }, 'elevated half (UAC)');
  item((at) => {
    doc.rect(at, y + 1, 12, BAR_HEIGHT).fill(PRIVILEGED);
    doc
      .moveTo(at + 17, y + 1 + BAR_HEIGHT / 2)
      .lineTo(at + 12, y)
      .lineTo(at + 12, y + BAR_HEIGHT + 2)
      .closePath()
      .fill(PRIVILEGED);
  }, 'open: began before / still open at window end');
  item((at) => diamond(w, at + 9, y + 1 + BAR_HEIGHT / 2, 3), 'orphan activity');
  item(box(GAP), 'no records (coverage gap)');
  if (partLabel) w.drawLine(`(${partLabel})`, x, y + 1, { size: 7.5, color: MUTED });
}

/** Cuts a lane label to the label column with an ellipsis. */
function fitLabel(w: PdfWriter, label: string, width: number, size: number): string {
  if (w.measure(label, 'regular', size) <= width) return label;
  let cut = label;
  while (cut.length > 1 && w.measure(`${cut}…`, 'regular', size) > width) cut = cut.slice(0, -1);
  return `${cut}…`;
}

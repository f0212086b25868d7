/**
 * Realistic Windows input for the bench, built from the real OTRF captures in
 * `/work/shared/datasets/windows/otrf` (all channels mixed, three JSON layouts; see the datasets
 * README): each capture is replayed as one host-day block of a fleet, the way a fleet logs a month:
 * - every host name of the capture gets the block's fleet suffix (`WORKSTATION6` → `WORKSTATION6-G0003`,
 *   the FQDN's first label only), so the same capture on two fleet groups is two sets of hosts;
 * - every time field (`@timestamp`, `TimeCreated`, `EventTime`) is shifted by one offset per block,
 *   which puts the capture at a seeded hour of the block's day;
 * - logon ids above the well-known ones (0x3e4, 0x3e5, 0x3e7: Microsoft, "Well-known logon
 *   sessions") and record numbers are offset by the day, so that one host's days never share a
 *   session or a record id (a host reboots, its record numbers keep growing).
 * Blocks are laid out as the tool reads them: `<root>/windows/dt=YYYY-MM-DD/g<group>-<capture>.json.gz`.
 * The same seed and size give the same files (the capture order is drawn with {@link Rng}).
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { Rng } from '../sample/prng.ts';

/** The days of the month the fleet logs; a block's day is its index modulo this. */
export const FLEET_DAYS = 30;
export const FLEET_FROM = '2024-01-01';

/** Keys whose value is a logon id (hex text): Security (`*LogonId`, `LogonID`) and Sysmon (`LogonId`). */
const LOGON_ID_KEY = /logonid$/i;
const HOST_KEYS = new Set(['Hostname', 'computer_name', 'Computer']);
const RECORD_KEYS = new Set(['RecordNumber', 'record_number']);
/** Microsoft's well-known logon sessions: the same on every host and day, never re-keyed. */
const WELL_KNOWN_LUID = 0x3e7n;

interface Capture {
  readonly name: string;
  readonly lines: readonly string[];
  /** Earliest `@timestamp` of the capture (ms): the block's offset is taken from it. */
  readonly startMs: number;
}

/** Reads the captures (a few MB each) once. */
async function readCaptures(dir: string): Promise<Capture[]> {
  const out: Capture[] = [];
  for (const name of (await readdir(dir)).filter((n) => n.endsWith('.json.gz')).sort()) {
    const lines: string[] = [];
    let startMs = Number.POSITIVE_INFINITY;
    const rl = createInterface({ input: createReadStream(join(dir, name)).pipe(createGunzip()) });
    for await (const line of rl) {
      if (line.trim() === '') continue;
      lines.push(line);
      const t = Date.parse((JSON.parse(line) as Record<string, unknown>)['@timestamp'] as string);
      if (Number.isFinite(t)) startMs = Math.min(startMs, t);
    }
    out.push({ name: name.replace(/_\d{4}-.*$/, ''), lines, startMs });
  }
  return out;
}

/** `2020-08-06 11:56:07` / ISO text shifted by `delta` ms, in the same shape. */
function shiftTime(text: string, delta: number): string {
  const local = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/.exec(text);
  if (local !== null) {
    const t = new Date(Date.parse(`${local[1]}T${local[2]}Z`) + delta).toISOString();
    return `${t.slice(0, 10)} ${t.slice(11, 19)}`;
  }
  const iso = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?(.*)$/.exec(text);
  if (iso === null) return text;
  const frac = iso[2] ?? '';
  const t = new Date(Date.parse(`${iso[1]}Z`) + delta).toISOString().slice(0, 19);
  return `${t}${frac}${iso[3]}`;
}

function rekey(value: unknown, key: string, block: { delta: number; suffix: string; day: number }): unknown {
  if (typeof value === 'string') {
    if (HOST_KEYS.has(key) && value !== '') {
      const dot = value.indexOf('.');
      return dot < 0 ? `${value}${block.suffix}` : `${value.slice(0, dot)}${block.suffix}${value.slice(dot)}`;
    }
    if (key === '@timestamp' || key === 'TimeCreated' || key === 'EventTime')
      return shiftTime(value, block.delta);
    if (LOGON_ID_KEY.test(key) && /^0x[0-9a-fA-F]+$/.test(value)) {
      const n = BigInt(value);
      return n <= WELL_KNOWN_LUID ? value : `0x${(n + (BigInt(block.day + 1) << 36n)).toString(16)}`;
    }
    if (RECORD_KEYS.has(key) && /^\d+$/.test(value)) return String(Number(value) + block.day * 10_000_000);
    return value;
  }
  if (typeof value === 'number' && RECORD_KEYS.has(key)) return value + block.day * 10_000_000;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) o[k] = rekey(o[k], k, block);
    return o;
  }
  return value;
}

export interface FleetLogs {
  readonly root: string;
  readonly records: number;
  readonly files: readonly string[];
  /** Bytes of JSON lines before gzip. */
  readonly jsonBytes: number;
  readonly fromIso: string;
  readonly toIso: string;
}

/**
 * Writes `records` records (exactly) under `root` unless a complete set is there already
 * (`fleet.json` is written last). Returns the files (gzip) and the window they cover.
 */
export async function fleetLogs(options: {
  readonly captures: string;
  readonly root: string;
  readonly records: number;
  readonly seed: number;
}): Promise<FleetLogs> {
  const marker = join(options.root, 'fleet.json');
  const fromMs = Date.parse(`${FLEET_FROM}T00:00:00Z`);
  const window = {
    fromIso: new Date(fromMs).toISOString(),
    toIso: new Date(fromMs + FLEET_DAYS * 86_400_000).toISOString(),
  };
  const done = await readFleet(options.root);
  if (done?.records === options.records) return done;
  const captures = await readCaptures(options.captures);
  const rng = new Rng(options.seed);
  const files: string[] = [];
  let left = options.records;
  let jsonBytes = 0;
  for (let b = 0; left > 0; b++) {
    const capture = captures[rng.int(0, captures.length - 1)] as Capture;
    const day = b % FLEET_DAYS;
    const group = Math.floor(b / FLEET_DAYS);
    const dayMs = fromMs + day * 86_400_000;
    // The capture starts at a seeded minute between 01:00 and 20:00 so that it ends the same day.
    const delta = dayMs + rng.int(60, 20 * 60) * 60_000 - capture.startMs;
    const block = { delta, suffix: `-G${String(group).padStart(4, '0')}`, day };
    const dt = new Date(dayMs).toISOString().slice(0, 10);
    const dir = join(options.root, 'windows', `dt=${dt}`);
    await mkdir(dir, { recursive: true });
    const file = join(dir, `g${String(group).padStart(4, '0')}-${capture.name}.json.gz`);
    const take = capture.lines.slice(0, Math.min(left, capture.lines.length));
    left -= take.length;
    const text = (function* () {
      for (const line of take) {
        const text = `${JSON.stringify(rekey(JSON.parse(line), '', block))}\n`;
        jsonBytes += Buffer.byteLength(text);
        yield text;
      }
    })();
    await pipeline(text, createGzip({ level: 6 }), createWriteStream(`${file}.part`));
    await rename(`${file}.part`, file);
    files.push(file);
  }
  const result: FleetLogs = { root: options.root, records: options.records, files, jsonBytes, ...window };
  await writeFile(marker, JSON.stringify(result));
  return result;
}

/** The set generated under `root`, or null when none is complete there. */
export async function readFleet(root: string): Promise<FleetLogs | null> {
  try {
    return JSON.parse(await readFile(join(root, 'fleet.json'), 'utf8')) as FleetLogs;
  } catch {
    return null;
  }
}

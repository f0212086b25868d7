/**
 * `npm run fuzz`: the full fuzz corpus (test/fuzz/corpus.ts) through real exports. For each of the
 * five sources, `--cases` packs of `--lines` mutated real lines each; every pack must export
 * (no abort), satisfy the accounting invariant (no uncounted record), and, for every case whose
 * files are plain lines, give byte-identical evidence.json when each file's lines are shuffled
 * (no order-dependent result). Prints the figures; exits 1 when any of the three is not zero.
 *
 *   npm run fuzz -- [--cases 26] [--lines 40] [--seed 1]
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { canonicalBytes } from '../lib/evidence/canonical-json.ts';
import type { EvidencePack } from '../lib/evidence/model.ts';
import { Rng } from '../sample/prng.ts';
import { FUZZ_SOURCES, type FuzzCase, makeCase, runCase, seedLines } from '../test/fuzz/corpus.ts';
import { makeKey } from '../test/helpers/local-export.ts';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i < 0 ? fallback : Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a whole number ≥ 1`);
  return v;
}

/** The same case with each file's lines in another order (null when a file is no plain lines). */
function permuted(c: FuzzCase, rng: Rng): FuzzCase | null {
  const files: { name: string; bytes: Buffer }[] = [];
  for (const f of c.files) {
    let text: Buffer;
    try {
      text = f.name.endsWith('.gz') ? gunzipSync(f.bytes) : f.bytes;
    } catch {
      return null; // bytes after the gzip data: no clean way to reorder
    }
    if (text[0] === 0x7b && text.subarray(0, 12).toString() === '{"Records":[') return null;
    if (text[0] === 0x5b || text[0] === 0xef) return null;
    if (text.length > 0 && text[text.length - 1] !== 0x0a) return null;
    const lines: Buffer[] = [];
    let from = 0;
    for (let nl = text.indexOf(0x0a); nl >= 0; nl = text.indexOf(0x0a, from)) {
      lines.push(text.subarray(from, nl + 1));
      from = nl + 1;
    }
    const body = Buffer.concat(rng.shuffle(lines));
    files.push({ name: f.name, bytes: f.name.endsWith('.gz') ? gzipSync(body) : body });
  }
  return { ...c, files };
}

/**
 * evidence.json with record positions (`#line=N`, `#record=N`) left out: a position names where a
 * record was in its file, so it moves with the record when lines are reordered; so do the files'
 * digests and stored sizes (other bytes, other gzip). All else must not move.
 */
function positionless(pack: EvidencePack): string {
  const inputs = pack.inputs?.map((i) => ({ ...i, sha256: null, size: null }));
  return new TextDecoder().decode(canonicalBytes({ ...pack, inputs })).replace(/#(line|record)=\d+/g, '#…');
}

function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return `${JSON.stringify(a.slice(Math.max(0, i - 120), i + 80))} vs ${JSON.stringify(b.slice(Math.max(0, i - 120), i + 80))}`;
}

const cases = arg('cases', 26);
const lines = arg('lines', 40);
const seed = arg('seed', 1);
const keyPath = await makeKey();
const started = Date.now();
const totals = { exports: 0, lines: 0, aborts: 0, uncounted: 0, orderChecks: 0, orderDependent: 0 };
const mutations: Record<string, number> = {};
const reasons: Record<string, number> = {};
const failures: string[] = [];
for (const source of FUZZ_SOURCES) {
  const seeds = await seedLines(source);
  const rng = new Rng(seed * 1000 + FUZZ_SOURCES.indexOf(source));
  let sourceLines = 0;
  for (let i = 0; i < cases; i++) {
    const c = makeCase(source, seeds, rng, lines);
    for (const [m, n] of Object.entries(c.mutations)) mutations[m] = (mutations[m] ?? 0) + n;
    totals.exports += 1;
    totals.lines += c.lines;
    sourceLines += c.lines;
    const r = await runCase(c, keyPath);
    if (r.pack === null) {
      totals.aborts += 1;
      failures.push(`${source} case ${i}: ${r.problems.join('; ')}`);
      continue;
    }
    if (r.problems.length > 0) {
      totals.uncounted += 1;
      failures.push(`${source} case ${i}: ${r.problems.join('; ')}`);
    }
    for (const x of r.pack.coverage.rejected)
      reasons[`${x.source}:${x.reason}`] = (reasons[`${x.source}:${x.reason}`] ?? 0) + x.count;
    const p = permuted(c, rng);
    if (p !== null) {
      const again = await runCase(p, keyPath);
      totals.exports += 1;
      totals.orderChecks += 1;
      const a = positionless(r.pack);
      const b = again.pack === null ? '' : positionless(again.pack);
      if (a !== b) {
        totals.orderDependent += 1;
        failures.push(
          `${source} case ${i}: evidence.json differs when the lines are reordered: ${firstDifference(a, b)}`,
        );
      }
    }
  }
  process.stderr.write(`fuzz: ${source}: ${sourceLines} lines in ${cases} packs\n`);
}
const summary = {
  seed,
  ...totals,
  seconds: Math.round((Date.now() - started) / 1000),
  mutations: Object.fromEntries(Object.entries(mutations).sort()),
  rejected_by_reason: Object.fromEntries(Object.entries(reasons).sort()),
  failures: failures.slice(0, 50),
};
process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
process.exitCode = totals.aborts + totals.uncounted + totals.orderDependent === 0 ? 0 : 1;

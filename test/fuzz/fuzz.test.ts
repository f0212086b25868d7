/**
 * Mutated real lines of every source through real exports (issue 10): no export fails, every
 * record is accounted for, and the command line prints no stack trace. A few hundred lines here;
 * `npm run fuzz` runs thousands with the same generator.
 */
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '../../sample/prng.ts';
import { makeKey } from '../helpers/local-export.ts';
import { FUZZ_SOURCES, FUZZ_WINDOW, type FuzzSource, makeCase, runCase, seedLines } from './corpus.ts';

const BIN = new URL('../../bin/sessiontrail.js', import.meta.url).pathname;
const seeds = {} as Record<FuzzSource, string[]>;
let keyPath: string;

beforeAll(async () => {
  keyPath = await makeKey();
  for (const s of FUZZ_SOURCES) seeds[s] = await seedLines(s);
}, 120_000);

describe.each(FUZZ_SOURCES)('fuzz corpus: %s', (source) => {
  it('has real seed lines', () => {
    expect(seeds[source].length).toBeGreaterThan(20);
  });

  it('exports 80 mutated lines in two packs without a failure and with every record accounted for', async () => {
    const rng = new Rng(20_241_010);
    for (let i = 0; i < 2; i++) {
      const c = makeCase(source, seeds[source], rng, 40);
      const { pack, problems } = await runCase(c, keyPath);
      expect(problems).toEqual([]);
      expect(pack?.inputs?.length).toBe(c.files.length);
    }
  }, 120_000);

  it('through the command line: exit 0, JSON outcome, no stack trace', async () => {
    const c = makeCase(source, seeds[source], new Rng(7), 40);
    const logs = await mkdtemp(join(tmpdir(), 'st-fuzz-cli-'));
    const folder = source === 'cloudtrail' || source === 'ocsf' ? source : join(source, 'dt=2024-03-05');
    await mkdir(join(logs, folder), { recursive: true });
    for (const f of c.files) await writeFile(join(logs, folder, f.name), f.bytes);
    const out = await mkdtemp(join(tmpdir(), 'st-fuzz-cli-out-'));
    const r = spawnSync(
      process.execPath,
      [
        BIN,
        'export',
        '--kind',
        'review',
        '--from',
        FUZZ_WINDOW.from,
        '--to',
        FUZZ_WINDOW.to,
        '--logs',
        logs,
        '--source',
        source,
        '--out',
        out,
        '--key',
        keyPath,
        '--threads',
        '1',
        '--json',
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'written' });
  }, 120_000);
});

describe('accounting invariant (property, real exports)', () => {
  it('holds for any source, any seed, any number of lines and any file layout', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...FUZZ_SOURCES),
        fc.integer({ min: 1, max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 30 }),
        async (source, seed, lines) => {
          const { problems } = await runCase(makeCase(source, seeds[source], new Rng(seed), lines), keyPath);
          expect(problems).toEqual([]);
        },
      ),
      { numRuns: 25, seed: 10 },
    );
  }, 300_000);
});

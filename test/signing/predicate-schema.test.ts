import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACK_PREDICATE_TYPE, parseManifest } from '../../lib/signing/manifest.ts';
import { type Fixture, prepare, seal } from './pack-fixture.ts';

const SCHEMA = new URL('../../schema/pack-predicate.schema.json', import.meta.url);

describe('schema/pack-predicate.schema.json', () => {
  let f: Fixture;
  let validate: ReturnType<Ajv2020['compile']>;
  let predicates: Record<string, unknown>[];

  beforeAll(async () => {
    f = await prepare();
    const ajv = new Ajv2020({ allErrors: true, strict: true });
    addFormats.default(ajv);
    validate = ajv.compile(JSON.parse(await readFile(SCHEMA, 'utf8')));
    // Two packs of one series: the first with previous null, the second linked to it.
    const first = await seal(f, 'p1', { series: 's' });
    const second = await seal(f, 'p2', { series: 's' });
    predicates = await Promise.all(
      [first, second].map(
        async (p) =>
          JSON.parse(await readFile(join(f.root, 'store', p.dir, 'manifest.json'), 'utf8')).predicate,
      ),
    );
  });
  afterAll(async () => {
    await rm(f.root, { recursive: true, force: true });
  });

  it('is published under the predicate type the manifests name', async () => {
    expect(JSON.parse(await readFile(SCHEMA, 'utf8')).$id).toBe(PACK_PREDICATE_TYPE);
  });

  it('accepts the predicates of sealed packs, first and linked', () => {
    for (const predicate of predicates)
      expect(validate(predicate), JSON.stringify(validate.errors)).toBe(true);
    expect(predicates.map((p) => p.sequence)).toEqual([1, 2]);
  });

  it.each<[string, (p: Record<string, unknown>) => Record<string, unknown>]>([
    ['a missing sequence', ({ sequence: _s, ...rest }) => rest],
    ['sequence 0', (p) => ({ ...p, sequence: 0 })],
    ['an unknown field', (p) => ({ ...p, extra: 1 })],
    ['a short key id', (p) => ({ ...p, signer: { key_id: 'abcd', algorithm: 'ECDSA_P256_SHA256' } })],
    ['a previous without its digest', (p) => ({ ...p, previous: { pack_id: 'p1', sequence: 1 } })],
    [
      'an engine without its version',
      (p) => ({ ...p, tool: { name: 'sessiontrail', version: '0.1.0', engine: { name: 'trino' } } }),
    ],
  ])('rejects %s, as parseManifest does', async (_what, change) => {
    // Prepare
    const manifest = JSON.parse(await readFile(join(f.root, 'store', 's/p2/manifest.json'), 'utf8'));
    const changed = change(predicates[1] as Record<string, unknown>);

    // Act
    const bySchema = validate(changed);
    let byParser = true;
    try {
      parseManifest(new TextEncoder().encode(JSON.stringify({ ...manifest, predicate: changed })));
    } catch {
      byParser = false;
    }

    // Assess
    expect(bySchema).toBe(false);
    expect(byParser).toBe(false);
  });
});

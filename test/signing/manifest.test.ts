import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import {
  buildManifest,
  type ManifestInput,
  manifestBytes,
  PACK_PREDICATE_TYPE,
  parseManifest,
  STATEMENT_TYPE,
} from '../../lib/signing/manifest.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
const KEY_ID = 'c'.repeat(64);

function input(overrides: Partial<ManifestInput> = {}): ManifestInput {
  return {
    series: 'review-monthly',
    packId: 'review-2024-01',
    artifacts: [
      { name: 'queries/01-normalise.sql', bytes: bytes('SELECT 1') },
      { name: 'evidence.json', bytes: bytes('{}') },
      { name: 'evidence.pdf', bytes: bytes('%PDF') },
    ],
    previous: null,
    sequence: 1,
    sealedAt: '2024-02-01T03:00:00.000Z',
    operator: 'j.doe (--requester)',
    request: { kind: 'review', from: '2024-01-01', to: '2024-02-01' },
    tool: { name: 'sessiontrail', version: '0.1.0' },
    keyId: KEY_ID,
    ...overrides,
  };
}

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err;
  }
}

describe('buildManifest', () => {
  it('builds an in-toto Statement v1 with subjects sorted by name and the seal facts of the reservation', () => {
    // Act
    const statement = buildManifest(input());

    // Assess
    expect(statement._type).toBe(STATEMENT_TYPE);
    expect(statement.predicateType).toBe(PACK_PREDICATE_TYPE);
    expect(statement.subject.map((s) => s.name)).toEqual([
      'evidence.json',
      'evidence.pdf',
      'queries/01-normalise.sql',
    ]);
    expect(statement.subject[0]?.digest.sha256).toBe(
      '44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
    expect(statement.predicate).toEqual({
      pack_id: 'review-2024-01',
      series: 'review-monthly',
      sequence: 1,
      created: '2024-02-01T03:00:00.000Z',
      operator: 'j.doe (--requester)',
      request: { kind: 'review', from: '2024-01-01', to: '2024-02-01' },
      signer: { key_id: KEY_ID, algorithm: 'ECDSA_P256_SHA256' },
      previous: null,
      tool: { name: 'sessiontrail', version: '0.1.0' },
    });
  });

  it.each([
    ['manifest.json as an artifact', [{ name: 'manifest.json', bytes: bytes('x') }]],
    ['manifest.sig as an artifact', [{ name: 'manifest.sig', bytes: bytes('x') }]],
    ['manifest.dsse.json as an artifact', [{ name: 'manifest.dsse.json', bytes: bytes('x') }]],
    [
      'the same name twice',
      [
        { name: 'a', bytes: bytes('x') },
        { name: 'a', bytes: bytes('y') },
      ],
    ],
    ['a parent segment', [{ name: '../a', bytes: bytes('x') }]],
    ['an absolute name', [{ name: '/a', bytes: bytes('x') }]],
  ])('refuses %s (BAD_REQUEST)', (_what, artifacts) => {
    // Act
    const error = errorOf(() => buildManifest(input({ artifacts })));

    // Assess
    expect(isSessiontrailError(error, 'BAD_REQUEST')).toBe(true);
  });
});

describe('manifestBytes', () => {
  it('is canonical JSON without a trailing newline, and the same for the same input', () => {
    // Prepare
    const previous = { pack_id: 'review-2023-12', sequence: 1, manifest_sha256: 'd'.repeat(64) };

    // Act
    const first = manifestBytes(buildManifest(input({ previous, sequence: 2 })));
    const second = manifestBytes(
      buildManifest(input({ previous, sequence: 2, artifacts: [...input().artifacts].reverse() })),
    );

    // Assess
    const text = new TextDecoder().decode(first);
    expect(text).toBe(
      '{"_type":"https://in-toto.io/Statement/v1","predicate":{"created":"2024-02-01T03:00:00.000Z",' +
        '"operator":"j.doe (--requester)",' +
        `"pack_id":"review-2024-01","previous":{"manifest_sha256":"${'d'.repeat(64)}","pack_id":"review-2023-12","sequence":1},` +
        '"request":{"from":"2024-01-01","kind":"review","to":"2024-02-01"},' +
        `"sequence":2,"series":"review-monthly","signer":{"algorithm":"ECDSA_P256_SHA256","key_id":"${KEY_ID}"},` +
        '"tool":{"name":"sessiontrail","version":"0.1.0"}},"predicateType":"https://sessiontrail.dev/pack/v1",' +
        '"subject":[{"digest":{"sha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"name":"evidence.json"},' +
        '{"digest":{"sha256":"315d429b7714cedb6ad04ac31240145257692630457f3c88253c5beceac76027"},"name":"evidence.pdf"},' +
        '{"digest":{"sha256":"e004ebd5b5532a4b85984a62f8ad48a81aa3460c1ca07701f386135d72cdecf5"},"name":"queries/01-normalise.sql"}]}',
    );
    expect(Buffer.from(second).equals(Buffer.from(first))).toBe(true);
  });
});

describe('parseManifest', () => {
  it('reads back what manifestBytes wrote', () => {
    // Prepare
    const statement = buildManifest(input());

    // Act
    const parsed = parseManifest(manifestBytes(statement));

    // Assess
    expect(parsed).toEqual(statement);
  });

  it('reads back the engine that computed the pack, which evidence.json does not carry', () => {
    // Prepare
    const engine = { name: 'trino', version: '476' };
    const statement = buildManifest(input({ tool: { name: 'sessiontrail', version: '0.1.0', engine } }));

    // Act
    const parsed = parseManifest(manifestBytes(statement));

    // Assess
    expect(parsed.predicate.tool).toEqual({ name: 'sessiontrail', version: '0.1.0', engine });
  });

  it.each<[string, unknown, string]>([
    ['an engine without its version', { name: 'trino' }, 'predicate.tool.engine: missing version'],
    ['an engine with an unknown field', { name: 'trino', version: '476', sql: 'x' }, 'unknown sql'],
    ['an engine that is a string', 'trino', 'predicate.tool.engine: expected an object'],
  ])('refuses a tool with %s', (_what, engine, message) => {
    // Prepare
    const manifest = JSON.parse(new TextDecoder().decode(manifestBytes(buildManifest(input()))));
    manifest.predicate.tool.engine = engine;

    // Act
    const err = errorOf(() => parseManifest(bytes(JSON.stringify(manifest))));

    // Assess
    expect(err).toMatchObject({ code: 'VERIFY_MANIFEST_INVALID' });
    expect((err as Error).message).toContain(message);
  });

  const good = (): Record<string, unknown> =>
    JSON.parse(new TextDecoder().decode(manifestBytes(buildManifest(input()))));
  it.each<[string, () => Uint8Array, string]>([
    ['bytes that are not JSON', () => bytes('{"_type":'), 'do not parse'],
    ['bytes that are not UTF-8', () => new Uint8Array([0x7b, 0xff, 0x7d]), 'do not parse'],
    ['another _type', () => bytes(JSON.stringify({ ...good(), _type: 'x' })), '_type'],
    [
      'another predicateType',
      () => bytes(JSON.stringify({ ...good(), predicateType: 'x' })),
      'predicateType',
    ],
    ['an unknown top-level key', () => bytes(JSON.stringify({ ...good(), extra: 1 })), 'unknown extra'],
    [
      'a digest that is not sha256 hex',
      () => bytes(JSON.stringify({ ...good(), subject: [{ name: 'a', digest: { sha256: 'XYZ' } }] })),
      'sha256',
    ],
    [
      'a subject outside the pack folder',
      () =>
        bytes(JSON.stringify({ ...good(), subject: [{ name: '../a', digest: { sha256: 'e'.repeat(64) } }] })),
      'relative path',
    ],
    [
      'another signature algorithm',
      () => {
        const m = good() as { predicate: { signer: { algorithm: string } } };
        m.predicate.signer.algorithm = 'RSA';
        return bytes(JSON.stringify(m));
      },
      'algorithm',
    ],
    [
      'a sequence that is not a whole number of at least 1',
      () => {
        const m = good() as { predicate: { sequence: number } };
        m.predicate.sequence = 0;
        return bytes(JSON.stringify(m));
      },
      'predicate.sequence',
    ],
    [
      'a sequence above 1 without a previous pack',
      () => {
        const m = good() as { predicate: { sequence: number } };
        m.predicate.sequence = 3;
        return bytes(JSON.stringify(m));
      },
      'expects the pack of sequence 2',
    ],
  ])('refuses %s with VERIFY_MANIFEST_INVALID', (_what, build, mention) => {
    // Act
    const error = errorOf(() => parseManifest(build()));

    // Assess
    expect(isSessiontrailError(error, 'VERIFY_MANIFEST_INVALID')).toBe(true);
    expect((error as Error).message).toContain(mention);
  });
});

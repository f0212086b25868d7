import { mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import type { EvidenceStore } from '../../lib/storage/evidence-store.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return isSessiontrailError(err) ? err.code : `not a SessiontrailError: ${String(err)}`;
  }
}

describe('FsEvidenceStore', () => {
  let root: string;
  let store: EvidenceStore;

  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'sessiontrail-store-'));
    store = new FsEvidenceStore(root) satisfies EvidenceStore;
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('writes a new file under new folders and reads it back', async () => {
    // Act
    await store.putNew('series/pack/queries/01.sql', bytes('SELECT 1'));

    // Assess
    expect(new TextDecoder().decode(await store.get('series/pack/queries/01.sql'))).toBe('SELECT 1');
    expect(await readFile(join(root, 'series/pack/queries/01.sql'), 'utf8')).toBe('SELECT 1');
  });

  it('leaves written files read-only (0444)', async () => {
    // Act
    await store.putNew('s/p/evidence.json', bytes('{}'));

    // Assess
    expect((await stat(join(root, 's/p/evidence.json'))).mode & 0o777).toBe(0o444);
  });

  it('refuses to overwrite a file with PACK_EXISTS naming it, and keeps the original', async () => {
    // Prepare
    await store.putNew('s/p/evidence.json', bytes('original'));

    // Act
    let error: unknown;
    try {
      await store.putNew('s/p/evidence.json', bytes('replacement'));
    } catch (err) {
      error = err;
    }

    // Assess
    expect(isSessiontrailError(error, 'PACK_EXISTS')).toBe(true);
    expect((error as Error).message).toContain(join(root, 's/p/evidence.json'));
    expect(await readFile(join(root, 's/p/evidence.json'), 'utf8')).toBe('original');
  });

  it.each([
    ['a parent segment', '../outside'],
    ['a parent segment in the middle', 's/../../outside'],
    ['an absolute path', '/etc/passwd'],
    ['an empty path', ''],
    ['an empty segment', 's//p'],
    ['a trailing slash', 's/p/'],
    ['a dot segment', './s'],
    ['a backslash', 's\\..\\x'],
  ])('refuses %s with BAD_REQUEST (%j)', async (_what, path) => {
    // Act
    const codes = [
      await codeOf(store.putNew(path, bytes('x'))),
      await codeOf(store.putIdempotent(path, bytes('x'))),
      await codeOf(store.get(path)),
      await codeOf(store.exists(path)),
    ];

    // Assess
    expect(codes).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST']);
  });

  it('accepts the same content twice with putIdempotent', async () => {
    // Prepare
    await store.putIdempotent('keys/abc.pem', bytes('PEM'));

    // Act
    const code = await codeOf(store.putIdempotent('keys/abc.pem', bytes('PEM')));

    // Assess
    expect(code).toBeUndefined();
  });

  it('refuses different content with putIdempotent (PACK_EXISTS)', async () => {
    // Prepare
    await store.putIdempotent('keys/abc.pem', bytes('PEM'));

    // Act
    const code = await codeOf(store.putIdempotent('keys/abc.pem', bytes('OTHER')));

    // Assess
    expect(code).toBe('PACK_EXISTS');
    expect(await readFile(join(root, 'keys/abc.pem'), 'utf8')).toBe('PEM');
  });

  it('reports a missing file as STORE_READ_FAILED and as not existing', async () => {
    // Act
    const code = await codeOf(store.get('s/p/missing.json'));
    const exists = await store.exists('s/p/missing.json');

    // Assess
    expect(code).toBe('STORE_READ_FAILED');
    expect(exists).toBe(false);
  });

  it('does not count a folder as an existing file', async () => {
    // Prepare
    await store.putNew('s/p/evidence.json', bytes('{}'));

    // Act
    const exists = await store.exists('s/p');

    // Assess
    expect(exists).toBe(false);
  });

  it('lists files under a folder, relative and sorted, and a missing folder as empty', async () => {
    // Prepare
    for (const name of [
      's/p/queries/02.sql',
      's/p/evidence.json',
      's/p/queries/01.sql',
      's/other/x',
      'keys/k.pem',
    ]) {
      await store.putNew(name, bytes(name));
    }

    // Act
    const inPack = await store.list('s/p');
    const withSlash = await store.list('s/p/');
    const all = await store.list('');
    const missing = await store.list('nothing/here');

    // Assess
    expect(inPack).toEqual(['evidence.json', 'queries/01.sql', 'queries/02.sql']);
    expect(withSlash).toEqual(inPack);
    expect(all).toEqual([
      'keys/k.pem',
      's/other/x',
      's/p/evidence.json',
      's/p/queries/01.sql',
      's/p/queries/02.sql',
    ]);
    expect(missing).toEqual([]);
  });

  it.each([
    ['a file that is a symlink', 'series/pack/evidence.json', 'series/pack'],
    ['a file under a folder that is a symlink', 'series/pack/queries/01.sql', 'series/pack'],
  ])('refuses to read %s (STORE_NOT_REGULAR_FILE), even to a file with the right bytes', async (_what, path) => {
    // Prepare: the bytes live outside the store; a link inside points at them.
    const outside = await mkdtemp(join(tmpdir(), 'sessiontrail-outside-'));
    await writeFile(join(outside, 'evidence.json'), 'outside');
    await mkdir(join(outside, 'queries'));
    await writeFile(join(outside, 'queries', '01.sql'), 'outside');
    await mkdir(join(root, 'series/pack'), { recursive: true });
    if (path.endsWith('evidence.json')) await symlink(join(outside, 'evidence.json'), join(root, path));
    else await symlink(join(outside, 'queries'), join(root, 'series/pack/queries'));

    // Act
    const code = await codeOf(store.get(path));

    // Assess
    expect(code).toBe('STORE_NOT_REGULAR_FILE');
    await rm(outside, { recursive: true, force: true });
  });

  it('never lists the temporary file of a write that did not finish, and leaves none behind', async () => {
    // Prepare: what a process killed between writing and linking leaves in the folder.
    await store.putNew('series/pack/evidence.json', bytes('{}'));
    await writeFile(join(root, 'series/pack/.sessiontrail-partial-0123456789abcdef'), 'half a fi');

    // Act
    const listed = await store.list('series/pack');

    // Assess
    expect(listed).toEqual(['evidence.json']);
    expect((await readdir(join(root, 'series/pack'))).sort()).toEqual([
      '.sessiontrail-partial-0123456789abcdef',
      'evidence.json',
    ]);
  });

  it('describes a path as an absolute file path', () => {
    // Act
    const where = store.describe('s/p/evidence.json');

    // Assess
    expect(where).toBe(join(root, 's/p/evidence.json'));
  });
});

import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, link, lstat, mkdir, open, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SessiontrailError } from '../errors.ts';
import type { EvidenceStore } from './evidence-store.ts';
import { storePathSegments } from './store-path.ts';

/** Temporary files of unfinished writes: never listed, never read as evidence. */
const TEMP_PREFIX = '.sessiontrail-partial-';

/**
 * An {@link EvidenceStore} over a local folder. Files are created with `O_EXCL` (`wx`) so nothing is
 * ever overwritten, and made read-only (0444) once written: write-once on disk, as Object Lock is
 * on S3. Paths are `/`-separated and relative to the root given to the constructor.
 */
export class FsEvidenceStore implements EvidenceStore {
  readonly #root: string;

  /** @param root the folder that holds `<series>/<pack-id>/…` and `keys/`; created on first write. */
  constructor(root: string) {
    this.#root = resolve(root);
  }

  /**
   * @throws {SessiontrailError} `BAD_REQUEST` for a path that is absolute, empty, or has `..`, `.`
   *   or empty segments; `PACK_EXISTS` when the file exists; `STORE_WRITE_FAILED` otherwise.
   */
  async putNew(path: string, bytes: Uint8Array): Promise<void> {
    const file = this.#resolve(path);
    try {
      await mkdir(dirname(file), { recursive: true });
    } catch (cause) {
      throw new SessiontrailError('STORE_WRITE_FAILED', `cannot create the folder for ${file}`, { cause });
    }
    // Written whole to a temporary name, then hard-linked into place: link(2) fails with EEXIST
    // when the name exists, so the file appears complete or not at all. A build killed mid-write
    // leaves at most a temporary file (never listed), not a truncated pack file that would
    // conflict with the resumed build's bytes.
    const temp = join(dirname(file), `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
    try {
      const handle = await open(temp, 'wx', 0o600);
      try {
        await handle.writeFile(bytes);
        // Evidence must survive a crash right after the signature is written.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(temp, 0o444);
    } catch (cause) {
      await rm(temp, { force: true }).catch(() => undefined);
      throw new SessiontrailError('STORE_WRITE_FAILED', `cannot write ${file}`, { cause });
    }
    try {
      await link(temp, file);
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code === 'EEXIST') {
        throw new SessiontrailError(
          'PACK_EXISTS',
          `${file} already exists; evidence files are never overwritten`,
          {
            cause,
          },
        );
      }
      throw new SessiontrailError('STORE_WRITE_FAILED', `cannot create ${file}`, { cause });
    } finally {
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  /**
   * @throws {SessiontrailError} `PACK_EXISTS` when the file exists with different content;
   *   `BAD_REQUEST`, `STORE_WRITE_FAILED` or `STORE_READ_FAILED` as for {@link putNew} and {@link get}.
   */
  async putIdempotent(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.putNew(path, bytes);
    } catch (err) {
      if (!(err instanceof SessiontrailError) || err.code !== 'PACK_EXISTS') throw err;
      const existing = await this.get(path);
      if (!Buffer.from(existing).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) {
        throw new SessiontrailError(
          'PACK_EXISTS',
          `${this.describe(path)} already exists with different content (${existing.byteLength} bytes, ${bytes.byteLength} given)`,
          { cause: err },
        );
      }
    }
  }

  /**
   * Reads a regular file. Symlinks are refused, at the file and at every folder below the root: a
   * pack's evidence is the bytes stored in it, never a file elsewhere on the machine that a link
   * points to (an attacker with write access could otherwise make a subject read any file).
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad path; `STORE_NOT_REGULAR_FILE` for a symlink
   *   or anything but a regular file; `STORE_READ_FAILED` when missing or unreadable.
   */
  async get(path: string): Promise<Uint8Array> {
    const segments = storePathSegments(path);
    const file = join(this.#root, ...segments);
    await this.#refuseLinks(segments);
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      // O_NOFOLLOW closes the race between the lstat checks and the open for the last segment.
      handle = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (cause) {
      const code = (cause as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') {
        throw new SessiontrailError('STORE_NOT_REGULAR_FILE', `${file} is a symlink`, { cause });
      }
      const reason = code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      throw new SessiontrailError('STORE_READ_FAILED', `${file} ${reason}`, { cause });
    }
    try {
      if (!(await handle.stat()).isFile()) {
        throw new SessiontrailError('STORE_NOT_REGULAR_FILE', `${file} is not a regular file`);
      }
      const data = await handle.readFile();
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (cause) {
      if (cause instanceof SessiontrailError) throw cause;
      throw new SessiontrailError('STORE_READ_FAILED', `${file} cannot be read`, { cause });
    } finally {
      await handle.close();
    }
  }

  /**
   * True when something other than a folder exists at `path` (a regular file, or a symlink, which
   * {@link get} then refuses with its own code). @throws {SessiontrailError} `BAD_REQUEST` for a bad path.
   */
  async exists(path: string): Promise<boolean> {
    const file = this.#resolve(path);
    try {
      return !(await lstat(file)).isDirectory();
    } catch {
      return false;
    }
  }

  async #refuseLinks(segments: readonly string[]): Promise<void> {
    for (let n = 1; n < segments.length; n++) {
      const folder = join(this.#root, ...segments.slice(0, n));
      let isLink = false;
      try {
        isLink = (await lstat(folder)).isSymbolicLink();
      } catch {
        return; // missing: the open reports it
      }
      if (isLink) throw new SessiontrailError('STORE_NOT_REGULAR_FILE', `${folder} is a symlink`);
    }
  }

  /**
   * Files under `prefix` (a folder; `''` is the root), relative to it, `/`-separated, sorted by code
   * unit. A missing folder lists as empty.
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad prefix; `STORE_READ_FAILED` when unreadable.
   */
  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/\/+$/, '');
    const folder = trimmed === '' ? this.#root : this.#resolve(trimmed);
    const found: string[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (cause) {
        const code = (cause as NodeJS.ErrnoException).code;
        if ((code === 'ENOENT' || code === 'ENOTDIR') && rel === '') return;
        throw new SessiontrailError('STORE_READ_FAILED', `cannot list ${dir}`, { cause });
      }
      for (const entry of entries) {
        if (entry.name.startsWith(TEMP_PREFIX)) continue;
        const name = rel === '' ? entry.name : `${rel}/${entry.name}`;
        if (entry.isDirectory()) await walk(join(dir, entry.name), name);
        else found.push(name);
      }
    };
    await walk(folder, '');
    // Plain code-unit order, the same on every platform and locale (S3 lists in byte order too).
    return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** The absolute file path for people; does not validate. */
  describe(path: string): string {
    return join(this.#root, path);
  }

  #resolve(path: string): string {
    return join(this.#root, ...storePathSegments(path));
  }
}

import { chmod, mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { SessiontrailError } from '../errors.ts';
import type { EvidenceStore } from './evidence-store.ts';
import { storePathSegments } from './store-path.ts';

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
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(file, 'wx', 0o600);
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
    }
    try {
      try {
        await handle.writeFile(bytes);
        // Evidence must survive a crash right after the signature is written.
        await handle.sync();
      } finally {
        await handle.close();
      }
      await chmod(file, 0o444);
    } catch (cause) {
      // The file is ours (we created it with O_EXCL) and incomplete: remove it so a retry can write it.
      await rm(file, { force: true }).catch(() => undefined);
      throw new SessiontrailError('STORE_WRITE_FAILED', `cannot write ${file}`, { cause });
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

  /** @throws {SessiontrailError} `BAD_REQUEST` for a bad path; `STORE_READ_FAILED` when missing or unreadable. */
  async get(path: string): Promise<Uint8Array> {
    const file = this.#resolve(path);
    try {
      const data = await readFile(file);
      return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    } catch (cause) {
      const reason = (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'cannot be read';
      throw new SessiontrailError('STORE_READ_FAILED', `${file} ${reason}`, { cause });
    }
  }

  /** True when a regular file exists at `path`. @throws {SessiontrailError} `BAD_REQUEST` for a bad path. */
  async exists(path: string): Promise<boolean> {
    const file = this.#resolve(path);
    try {
      return (await stat(file)).isFile();
    } catch {
      return false;
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

/**
 * The evidence store port: where packs are written, once. Adapters: a local folder
 * (`fs-evidence-store.ts`) and S3 (later). Paths are relative, `/`-separated, and validated by the
 * adapter (no `..`, no absolute paths).
 */
export interface EvidenceStore {
  /** Writes one file; refuses to overwrite an existing one (code `PACK_EXISTS`). */
  putNew(path: string, bytes: Uint8Array): Promise<void>;
  /**
   * Writes a file that may already exist only with identical content (published public keys);
   * different content is refused with `PACK_EXISTS`.
   */
  putIdempotent(path: string, bytes: Uint8Array): Promise<void>;
  /** Reads one file; `STORE_READ_FAILED` when it is missing or unreadable. */
  get(path: string): Promise<Uint8Array>;
  /** True when the file exists. */
  exists(path: string): Promise<boolean>;
  /** Names of the files directly or indirectly under a folder, relative to it, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Where a path lives, for people: an absolute folder path or an `s3://` URL. */
  describe(path: string): string;
}

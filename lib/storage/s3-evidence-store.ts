import { createHash } from 'node:crypto';
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SessiontrailError } from '../errors.ts';
import type { EvidenceStore } from './evidence-store.ts';
import { storePathSegments } from './store-path.ts';

/** Options of {@link S3EvidenceStore}. */
export interface S3EvidenceStoreOptions {
  readonly client: S3Client;
  readonly bucket: string;
  /** Key prefix of the store root (`a/b`, no leading or trailing `/`). @default '' (the bucket root) */
  readonly prefix?: string;
  /** KMS key for SSE-KMS; without it the bucket's default encryption applies. */
  readonly kmsKeyId?: string;
  /**
   * Object Lock retention set on every object written; without it the bucket's default retention
   * applies (the bucket must have Object Lock enabled for either).
   */
  readonly objectLock?: { readonly mode: 'GOVERNANCE' | 'COMPLIANCE'; readonly retainDays: number };
  /** For the retention date. @default () => new Date() */
  readonly now?: () => Date;
}

const DAY_MS = 86_400_000;

/** Content types by file ending, so that a pack opens sensibly in the S3 console. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  json: 'application/json',
  pdf: 'application/pdf',
  sql: 'text/plain; charset=utf-8',
  pem: 'application/x-pem-file',
};

/**
 * An {@link EvidenceStore} over an S3 bucket, write-once: every write is a conditional PutObject
 * (`If-None-Match: *`), so an existing object is never replaced even by a racing writer, and carries a
 * SHA-256 checksum S3 checks on arrival. Object Lock (the bucket default, or the retention given
 * here) keeps the versions from being deleted. Paths follow the folder store's rules.
 */
export class S3EvidenceStore implements EvidenceStore {
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #kmsKeyId: string | undefined;
  readonly #objectLock: S3EvidenceStoreOptions['objectLock'];
  readonly #now: () => Date;

  /**
   * @throws {SessiontrailError} `BAD_CONFIG` for an empty bucket, a bad prefix or a retention that
   *   is not a whole number of days of at least 1.
   */
  constructor(options: S3EvidenceStoreOptions) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
      throw new SessiontrailError(
        'BAD_CONFIG',
        `S3 bucket: expected a bucket name (3-63 lower-case letters, digits, "." or "-"), received ${JSON.stringify(options.bucket)}`,
      );
    }
    const prefix = (options.prefix ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix !== '') {
      try {
        storePathSegments(prefix);
      } catch (cause) {
        throw new SessiontrailError(
          'BAD_CONFIG',
          `S3 prefix ${JSON.stringify(options.prefix)} is not a clean path`,
          {
            cause,
          },
        );
      }
    }
    const lock = options.objectLock;
    if (lock !== undefined && !(Number.isInteger(lock.retainDays) && lock.retainDays >= 1)) {
      throw new SessiontrailError(
        'BAD_CONFIG',
        `S3 Object Lock retainDays: expected a whole number of days of at least 1, received ${lock.retainDays}`,
      );
    }
    this.#client = options.client;
    this.#bucket = options.bucket;
    this.#prefix = prefix;
    this.#kmsKeyId = options.kmsKeyId;
    this.#objectLock = lock;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Writes one object unless the key exists (`If-None-Match: *`), with a SHA-256 checksum, SSE-KMS
   * when a key was given and Object Lock retention when one was given.
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad path; `PACK_EXISTS` when the key exists (or
   *   another writer is writing it at this moment); `STORE_WRITE_FAILED` otherwise.
   */
  async putNew(path: string, bytes: Uint8Array): Promise<void> {
    const key = this.#key(path);
    const input: PutObjectCommandInput = {
      Bucket: this.#bucket,
      Key: key,
      Body: bytes,
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      ChecksumSHA256: createHash('sha256').update(bytes).digest('base64'),
      ContentType: CONTENT_TYPES[path.slice(path.lastIndexOf('.') + 1)] ?? 'application/octet-stream',
      ...(this.#kmsKeyId === undefined
        ? {}
        : { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: this.#kmsKeyId }),
      ...(this.#objectLock === undefined
        ? {}
        : {
            ObjectLockMode: this.#objectLock.mode,
            ObjectLockRetainUntilDate: new Date(this.#now().getTime() + this.#objectLock.retainDays * DAY_MS),
          }),
    };
    try {
      await this.#client.send(new PutObjectCommand(input));
    } catch (cause) {
      const { name, status } = errorInfo(cause);
      if (status === 412 || name === 'PreconditionFailed') {
        throw new SessiontrailError(
          'PACK_EXISTS',
          `${this.describe(path)} already exists; evidence objects are never overwritten`,
          { cause },
        );
      }
      // 409: a conditional write of the same key by another writer is in flight (S3 user guide,
      // "Conditional writes"); that writer owns the key.
      if (status === 409 || name === 'ConditionalRequestConflict') {
        throw new SessiontrailError(
          'PACK_EXISTS',
          `${this.describe(path)} is being written by another writer at this moment`,
          { cause },
        );
      }
      throw new SessiontrailError(
        'STORE_WRITE_FAILED',
        `cannot write ${this.describe(path)}: ${name}: ${messageOf(cause)}`,
        { cause },
      );
    }
  }

  /**
   * Writes an object that may already exist only with identical bytes (published public keys).
   *
   * @throws {SessiontrailError} `PACK_EXISTS` when the object exists with different bytes;
   *   `BAD_REQUEST`, `STORE_WRITE_FAILED` or `STORE_READ_FAILED` as for {@link putNew} and {@link get}.
   */
  async putIdempotent(path: string, bytes: Uint8Array): Promise<void> {
    try {
      await this.putNew(path, bytes);
    } catch (err) {
      if (!(err instanceof SessiontrailError) || err.code !== 'PACK_EXISTS') throw err;
      let existing: Uint8Array;
      try {
        existing = await this.get(path);
      } catch (readErr) {
        throw new SessiontrailError(
          'PACK_EXISTS',
          `${this.describe(path)} exists but cannot be read back to compare: ${(readErr as Error).message}`,
          { cause: readErr },
        );
      }
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
   * Reads one object; S3's stored checksum is checked by the SDK when S3 returns one.
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad path; `STORE_READ_FAILED` when the object is
   *   missing or cannot be read.
   */
  async get(path: string): Promise<Uint8Array> {
    const key = this.#key(path);
    try {
      const out = await this.#client.send(
        new GetObjectCommand({ Bucket: this.#bucket, Key: key, ChecksumMode: 'ENABLED' }),
      );
      if (out.Body === undefined) return new Uint8Array();
      return await out.Body.transformToByteArray();
    } catch (cause) {
      const { name, status } = errorInfo(cause);
      const reason =
        status === 404 || name === 'NoSuchKey'
          ? 'does not exist'
          : `cannot be read: ${name}: ${messageOf(cause)}`;
      throw new SessiontrailError('STORE_READ_FAILED', `${this.describe(path)} ${reason}`, { cause });
    }
  }

  /**
   * True when the object exists: `ListObjectsV2(Prefix = key, MaxKeys = 1)` names the key itself
   * when it exists (keys are listed in UTF-8 binary order, and a key sorts before every longer key
   * it is a prefix of). Not HeadObject: S3 answers a HeadObject of a missing key with 403, not 404,
   * unless the caller may `s3:ListBucket` the bucket, and the roles' ListBucket is conditioned on
   * `s3:prefix`, which a HeadObject does not carry (S3 user guide, HeadObject "Permissions"); a
   * ListObjectsV2 carries it, so the same grant answers both.
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad path; `STORE_READ_FAILED` when S3 cannot list.
   */
  async exists(path: string): Promise<boolean> {
    const key = this.#key(path);
    let page: ListObjectsV2CommandOutput;
    try {
      page = await this.#client.send(
        new ListObjectsV2Command({ Bucket: this.#bucket, Prefix: key, MaxKeys: 1 }),
      );
    } catch (cause) {
      const { name } = errorInfo(cause);
      throw new SessiontrailError(
        'STORE_READ_FAILED',
        `cannot tell whether ${this.describe(path)} exists: ${name}: ${messageOf(cause)}`,
        { cause },
      );
    }
    return page.Contents?.[0]?.Key === key;
  }

  /**
   * Objects under `prefix` (a folder; `''` is the store root), relative to it, sorted by code unit.
   * Pages through ListObjectsV2; a missing folder lists as empty.
   *
   * @throws {SessiontrailError} `BAD_REQUEST` for a bad prefix; `STORE_READ_FAILED` when S3 cannot list.
   */
  async list(prefix: string): Promise<string[]> {
    const trimmed = prefix.replace(/\/+$/, '');
    const folder = trimmed === '' ? this.#prefix : this.#key(trimmed);
    const keyPrefix = folder === '' ? '' : `${folder}/`;
    const found: string[] = [];
    let token: string | undefined;
    do {
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.#client.send(
          new ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: keyPrefix,
            ...(token === undefined ? {} : { ContinuationToken: token }),
          }),
        );
      } catch (cause) {
        const { name } = errorInfo(cause);
        throw new SessiontrailError(
          'STORE_READ_FAILED',
          `cannot list ${this.#url(keyPrefix)}: ${name}: ${messageOf(cause)}`,
          { cause },
        );
      }
      for (const object of page.Contents ?? []) {
        const key = object.Key;
        // Keys ending in "/" are folder markers made by consoles, not files.
        if (key === undefined || !key.startsWith(keyPrefix) || key.endsWith('/')) continue;
        found.push(key.slice(keyPrefix.length));
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return found.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** `s3://bucket/prefix/path`, for people; does not validate. */
  describe(path: string): string {
    return this.#url(this.#prefix === '' ? path : `${this.#prefix}/${path}`);
  }

  #url(key: string): string {
    return `s3://${this.#bucket}/${key}`;
  }

  #key(path: string): string {
    const segments = storePathSegments(path);
    return this.#prefix === '' ? segments.join('/') : `${this.#prefix}/${segments.join('/')}`;
  }
}

function errorInfo(err: unknown): { name: string; status: number | undefined } {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } } | null;
  return { name: e?.name ?? e?.Code ?? 'Error', status: e?.$metadata?.httpStatusCode };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

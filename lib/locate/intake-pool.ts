/**
 * Worker threads for the intake: each takes whole files in (lib/locate/intake-worker.ts runs the
 * one intake function on them), so that the line checks, the digest and the garbage collection of
 * the inflater's buffers of several files run on several cores instead of all on the main thread
 * (measured: bench/RESULTS.md, "Intake"). The caller keeps the order ({@link mapInOrder}).
 *
 * A worker's entry is TypeScript when the project runs from its sources: on Node 20 a worker does
 * not inherit the main thread's tsx loader (neither the `tsx` CLI's nor `register()`'s), so a small
 * boot script registers tsx in the worker first, as bin/sessiontrail.js does for the CLI. Built
 * (`dist/`), the entry is JavaScript and loads as it is.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { InputFile, IntakeOptions } from './log-intake.ts';

/** One file to take in. */
export interface IntakeJob {
  readonly id: number;
  readonly path: string;
  readonly key: string;
  readonly n: number;
  readonly scratch: string;
  readonly options: IntakeOptions;
}

/** What a worker found of one file. */
export interface IntakeReply {
  readonly id: number;
  readonly input: InputFile | null;
  readonly readPath: string | null;
  /** The file's size and sha256 as stored, from the intake's own read; null when not read. */
  readonly stored: { readonly size: number; readonly sha256: string } | null;
  /** Why the rest of the file could not be read for its digest. */
  readonly storedError: string | null;
  /** What taking the file in threw (the in-process intake would have thrown it). */
  readonly error: string | null;
}

const BOOT = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx !== null) (await import(workerData.tsx)).register();
  await import(workerData.entry);
})().catch((err) => setImmediate(() => { throw err; }));
`;

/** The worker pool of one intake: {@link run} one file, {@link close} when done. */
export class IntakePool {
  private readonly idle: Worker[] = [];
  private readonly waiting: { resolve: (w: Worker) => void; reject: (e: unknown) => void }[] = [];
  private readonly all: Worker[] = [];
  private readonly pending = new Map<
    Worker,
    { resolve: (r: IntakeReply) => void; reject: (e: unknown) => void }
  >();
  private broken: unknown = null;
  private next = 0;

  constructor(private readonly size: number) {}

  /** Takes one file in on a worker. @throws when the worker cannot start or dies. */
  async run(job: Omit<IntakeJob, 'id'>): Promise<IntakeReply> {
    const worker = await this.acquire();
    try {
      return await new Promise<IntakeReply>((resolve, reject) => {
        this.pending.set(worker, { resolve, reject });
        worker.postMessage({ ...job, id: this.next++ } satisfies IntakeJob);
      });
    } finally {
      this.pending.delete(worker);
      this.release(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }

  private async acquire(): Promise<Worker> {
    if (this.broken !== null) throw this.broken;
    const w = this.idle.pop();
    if (w !== undefined) return w;
    if (this.all.length < this.size) return this.spawn();
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(w: Worker): void {
    if (this.broken !== null) {
      for (const waiter of this.waiting.splice(0)) waiter.reject(this.broken);
      return;
    }
    const next = this.waiting.shift();
    if (next !== undefined) next.resolve(w);
    else this.idle.push(w);
  }

  private spawn(): Worker {
    const ts = import.meta.url.endsWith('.ts');
    const entry = new URL(ts ? './intake-worker.ts' : './intake-worker.js', import.meta.url).href;
    const tsx = ts ? pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href : null;
    const w = new Worker(BOOT, { eval: true, workerData: { entry, tsx } });
    w.on('message', (reply: IntakeReply) => this.pending.get(w)?.resolve(reply));
    const fail = (err: unknown) => {
      this.broken = err;
      this.pending.get(w)?.reject(err);
    };
    w.on('error', fail);
    w.on('exit', (code) => {
      if (this.pending.has(w)) fail(new Error(`an intake worker stopped (exit code ${code})`));
    });
    this.all.push(w);
    return w;
  }
}

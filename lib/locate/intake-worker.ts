/**
 * A worker thread of the intake pool (lib/locate/intake-pool.ts): takes one text file in with the
 * one intake function ({@link intakeTextFile}) and finishes its digest, so that the line checks of
 * several files run on several cores. It decides nothing of its own.
 */
import { parentPort } from 'node:worker_threads';
import type { IntakeJob, IntakeReply } from './intake-pool.ts';
import { intakeTextFile } from './log-intake.ts';

parentPort?.on('message', async (job: IntakeJob) => {
  let reply: IntakeReply;
  try {
    const taken = await intakeTextFile(job.path, job.key, job.n, job.scratch, job.options);
    let stored: IntakeReply['stored'] = null;
    let storedError: string | null = null;
    if (taken.stored !== undefined && taken.input.status !== 'unreadable') {
      try {
        stored = await taken.stored.finish(job.path);
      } catch (err) {
        storedError = String(err);
      }
    }
    reply = { id: job.id, input: taken.input, readPath: taken.readPath, stored, storedError, error: null };
  } catch (err) {
    reply = { id: job.id, input: null, readPath: null, stored: null, storedError: null, error: String(err) };
  }
  parentPort?.postMessage(reply);
});

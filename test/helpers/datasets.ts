/**
 * Where the real public datasets are: `../shared/datasets` beside the repository (as laid out for
 * developers and CI), or the folder named by SESSIONTRAIL_DATASETS. Missing datasets fail the
 * tests that need them, loudly: they are never skipped.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export function datasetsDir(): string {
  const dir =
    process.env.SESSIONTRAIL_DATASETS ?? new URL('../../../shared/datasets/', import.meta.url).pathname;
  if (!existsSync(dir)) {
    throw new Error(
      `the public datasets are not at ${dir}: put shared/ beside the repository or set SESSIONTRAIL_DATASETS`,
    );
  }
  return dir;
}

export function dataset(...parts: string[]): string {
  return join(datasetsDir(), ...parts);
}

/**
 * Writes the seeded sample logs of several sources into one logs folder laid out like the S3
 * bucket, each with its own ground-truth file: what `sample` and `demo` run.
 */
import { SessiontrailError } from '../errors.ts';
import { generateCloudTrailSample } from './cloudtrail-sample.ts';
import { generateLinuxSample } from './linux-sample.ts';
import { generateOcsfSample } from './ocsf-sample.ts';
import { generateWindowsSample } from './windows-sample.ts';

export const SAMPLE_KINDS = ['windows', 'linux', 'cloudtrail', 'ocsf'] as const;
export type SampleKind = (typeof SAMPLE_KINDS)[number];

export interface SamplesOptions {
  readonly kinds: readonly SampleKind[];
  readonly seed: number;
  /** Hosts per host-based source (Windows, Linux); at least 3. */
  readonly hosts: number;
  readonly days: number;
  /** First day, `YYYY-MM-DD` (UTC). */
  readonly from: string;
  readonly outDir: string;
}

export interface SampleOutcome {
  readonly kind: SampleKind;
  readonly files: number;
  readonly groundTruthPath: string;
}

/**
 * Generates each requested sample; the same options write the same bytes.
 * @throws SessiontrailError `BAD_REQUEST` for an unknown kind or options a generator refuses.
 */
export async function generateSamples(options: SamplesOptions): Promise<{
  readonly outcomes: readonly SampleOutcome[];
  readonly window: { readonly from: string; readonly to: string };
}> {
  const outcomes: SampleOutcome[] = [];
  const base = { seed: options.seed, days: options.days, from: options.from, outDir: options.outDir };
  try {
    for (const kind of [...new Set(options.kinds)]) {
      if (kind === 'windows') {
        const r = await generateWindowsSample({ ...base, hosts: options.hosts });
        outcomes.push({ kind, files: r.files.length, groundTruthPath: r.groundTruthPath });
      } else if (kind === 'linux') {
        const r = await generateLinuxSample({ ...base, hosts: Math.min(options.hosts, 100) });
        outcomes.push({ kind, files: r.files.length, groundTruthPath: r.groundTruthPath });
      } else if (kind === 'cloudtrail') {
        const r = await generateCloudTrailSample(base);
        outcomes.push({ kind, files: r.files.length, groundTruthPath: r.groundTruthPath });
      } else if (kind === 'ocsf') {
        const r = await generateOcsfSample(base);
        outcomes.push({ kind, files: r.files.length, groundTruthPath: r.groundTruthPath });
      } else {
        throw new SessiontrailError(
          'BAD_REQUEST',
          `unknown sample ${JSON.stringify(kind)}: use ${SAMPLE_KINDS.join(', ')}`,
        );
      }
    }
  } catch (err) {
    if (err instanceof SessiontrailError) throw err;
    throw new SessiontrailError('BAD_REQUEST', `cannot write the sample: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const from = Date.parse(`${options.from}T00:00:00Z`);
  return {
    outcomes,
    window: {
      from: new Date(from).toISOString(),
      to: new Date(from + options.days * 86_400_000).toISOString(),
    },
  };
}

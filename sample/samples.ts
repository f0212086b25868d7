/**
 * Writes the seeded sample logs of several sources into one logs folder laid out like the S3
 * bucket, each with its own ground-truth file: what `sample` and `demo` run.
 */
import { SessiontrailError } from '../lib/errors.ts';
import { generateCloudTrailSample } from './cloudtrail-sample.ts';
import { generateLinuxSample } from './linux-sample.ts';
import { generateOcsfSample } from './ocsf-sample.ts';
import { generateWindowsSample } from './windows-sample.ts';

/** What a sample generator is given: the options shared by every source's sample. */
interface SampleBase {
  readonly seed: number;
  readonly days: number;
  readonly from: string;
  readonly outDir: string;
  readonly hosts: number;
}

/**
 * The sample generators, one line per sample: adding a source's sample is one line here. `linux`
 * writes both Linux sources (auditd and auth.log of the same hosts).
 */
const GENERATORS = {
  windows: (b: SampleBase) => generateWindowsSample(b),
  linux: (b: SampleBase) => generateLinuxSample({ ...b, hosts: Math.min(b.hosts, 100) }),
  cloudtrail: (b: SampleBase) => generateCloudTrailSample(b),
  ocsf: (b: SampleBase) => generateOcsfSample(b),
} as const satisfies Record<
  string,
  (b: SampleBase) => Promise<{ readonly files: readonly unknown[]; readonly groundTruthPath: string }>
>;

export type SampleKind = keyof typeof GENERATORS;
export const SAMPLE_KINDS = Object.keys(GENERATORS) as readonly SampleKind[];

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
  const base: SampleBase = {
    seed: options.seed,
    days: options.days,
    from: options.from,
    outDir: options.outDir,
    hosts: options.hosts,
  };
  try {
    for (const kind of [...new Set(options.kinds)]) {
      // Kinds come from the command line too: an unknown one is refused, not looked up blindly.
      const generate = Object.hasOwn(GENERATORS, kind) ? GENERATORS[kind] : undefined;
      if (generate === undefined) {
        throw new SessiontrailError(
          'BAD_REQUEST',
          `unknown sample ${JSON.stringify(kind)}: use ${SAMPLE_KINDS.join(', ')}`,
        );
      }
      const r = await generate(base);
      outcomes.push({ kind, files: r.files.length, groundTruthPath: r.groundTruthPath });
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

/**
 * The command-line pieces every bench script shares: its flags, the input cache, and the fleet
 * inputs already generated there (bench/fleet-logs.ts), so that each script reads them the same way.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type FleetLogs, readFleet } from './fleet-logs.ts';

/** The value after `name` on the command line (`--sizes 0.25,1`), or undefined. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
}

/** `--cache`, or the default cache outside the repository. */
export function benchCache(): string {
  return arg('--cache') ?? join(homedir(), '.cache', 'sessiontrail', 'bench-fleet');
}

/** The folder of the generated input of `millions` million records under `cache`. */
export function fleetRoot(cache: string, millions: number): string {
  return join(cache, `windows-${Math.round(millions * 1_000_000)}`);
}

/**
 * The `--sizes` (default `fallback`) whose input is already generated under `cache`; a size without
 * one is said and passed over (only `npm run bench` generates inputs).
 */
export async function* generatedFleets(
  cache: string,
  fallback: string,
): AsyncGenerator<{ millions: number; logs: FleetLogs }> {
  for (const millions of (arg('--sizes') ?? fallback).split(',').map(Number)) {
    const root = fleetRoot(cache, millions);
    const logs = await readFleet(root);
    if (logs === null) {
      console.log(
        `${millions} M: no generated input at ${root} (run npm run bench -- --sizes ${millions} first)`,
      );
      continue;
    }
    yield { millions, logs };
  }
}

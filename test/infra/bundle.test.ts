/**
 * The real bundles, as `cdk synth` builds them (esbuild + npm ci of the runtime packages): run in
 * plain Node, outside the project, so nothing resolves from the project's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUNDLE_DIR, RUNTIME_NODE_MODULES } from '../../infra/constructs/exporter-function.ts';
import { type Synthesised, synthApp } from './synth-app.ts';

function assetDir(s: Synthesised, functionPrefix: string): string {
  const fns = s.exporterTemplate.findResources('AWS::Lambda::Function');
  const entry = Object.entries(fns).find(([id]) => id.startsWith(functionPrefix));
  const key = (entry?.[1] as { Properties: { Code: { S3Key: string } } }).Properties.Code.S3Key;
  return join(s.assembly.directory, `asset.${key.replace(/\.zip$/, '')}`);
}

describe('function bundles', () => {
  let s: Synthesised;
  beforeAll(() => {
    s = synthApp({}, true);
  }, 180_000);

  it.each([
    'ExporterOnDemandFunction',
    'ExporterScheduledReviewFunction',
  ])('%s ships the schema, the fonts and pdfkit, and no DuckDB', (fn) => {
    const dir = assetDir(s, fn);
    expect(existsSync(join(dir, BUNDLE_DIR, 'index.mjs'))).toBe(true);
    expect(existsSync(join(dir, 'schema', 'evidence.schema.json'))).toBe(true);
    for (const m of RUNTIME_NODE_MODULES)
      expect(existsSync(join(dir, 'node_modules', m, 'package.json')), m).toBe(true);
    expect(readdirSync(join(dir, 'node_modules', 'dejavu-fonts-ttf', 'ttf'))).toContain('DejaVuSans.ttf');
    expect(existsSync(join(dir, 'node_modules', '@duckdb'))).toBe(false);
    expect(readFileSync(join(dir, BUNDLE_DIR, 'index.mjs'), 'utf8')).not.toMatch(
      /@duckdb\/node-api|duckdb-engine/,
    );
  });

  it('the bundled on-demand handler loads the evidence schema and the PDF fonts in plain Node', () => {
    // Prepare
    const dir = assetDir(s, 'ExporterOnDemandFunction');
    const script = `
      const { handler } = await import(${JSON.stringify(join(dir, BUNDLE_DIR, 'index.mjs'))});
      const context = { awsRequestId: 'r1', invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:f',
        functionName: 'f', functionVersion: '1', memoryLimitInMB: '2048', logGroupName: 'g', logStreamName: 's',
        callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => 900000 };
      process.stdout.write('ANSWER' + JSON.stringify(await handler({ action: 'check' }, context)) + '\\n');`;
    // Act: cwd outside the project, no project node_modules on the resolution path
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', POWERTOOLS_METRICS_NAMESPACE: 'test', POWERTOOLS_DEV: 'false' },
    });
    // Assess
    const answer = JSON.parse(
      out
        .split('\n')
        .find((l) => l.startsWith('ANSWER'))
        ?.slice(6) ?? 'null',
    );
    expect(answer).toEqual({
      ok: true,
      action: 'check',
      schema: 'loaded',
      fonts: ['bold', 'cjk', 'mono', 'regular'],
    });
  });
});

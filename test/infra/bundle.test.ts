/**
 * The real bundles, as `npx cdk synth` builds them **offline**: the CDK CLI runs with npm's registry
 * pointed at an unreachable address and an empty npm cache, so any `npm install` at synth time
 * would fail it. The bundles are then run in plain Node, outside the project, so nothing resolves
 * from the project's node_modules.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BUNDLE_DIR,
  FONT_FILES_USED,
  PROJECT_ROOT,
  RUNTIME_NODE_MODULES,
  runtimeModuleFolders,
} from '../../infra/constructs/exporter-function.ts';

interface Synth {
  readonly directory: string;
  readonly template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };
}

function assetDir(s: Synth, functionPrefix: string): string {
  const entry = Object.entries(s.template.Resources).find(
    ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith(functionPrefix),
  );
  const key = (entry?.[1].Properties.Code as { S3Key: string }).S3Key;
  return join(s.directory, `asset.${key.replace(/\.zip$/, '')}`);
}

/** `cdk synth` through the CLI, with no registry, no npm cache, no credentials. */
function synthOffline(): Synth {
  const out = mkdtempSync(join(tmpdir(), 'st-cdk-offline-'));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: mkdtempSync(join(tmpdir(), 'st-home-')),
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    // Nothing listens on port 9 (discard): a registry request fails at once.
    npm_config_registry: 'http://127.0.0.1:9/',
    npm_config_cache: mkdtempSync(join(tmpdir(), 'st-npm-cache-')),
    npm_config_fetch_retries: '0',
  };
  execFileSync(
    process.execPath,
    [
      join(PROJECT_ROOT, 'node_modules', 'aws-cdk', 'bin', 'cdk'),
      'synth',
      '--quiet',
      '--no-notices',
      '-o',
      out,
      '-c',
      'logsBucket=example-logs',
    ],
    { cwd: PROJECT_ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 },
  );
  const assembly = new CloudAssembly(out);
  const stack = assembly.stacks.find((st) => st.stackName.endsWith('-exporter'));
  if (stack === undefined) throw new Error(`no exporter stack in ${out}`);
  return { directory: out, template: stack.template as Synth['template'] };
}

describe('function bundles (cdk synth offline)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synthOffline();
  }, 300_000);

  it('copies the runtime packages and their whole production closure, nothing installed', () => {
    const dir = assetDir(s, 'ExporterOnDemandFunction');
    const shipped = readdirSync(join(dir, 'node_modules'), { withFileTypes: true }).flatMap((e) =>
      e.name.startsWith('@')
        ? readdirSync(join(dir, 'node_modules', e.name)).map((n) => `node_modules/${e.name}/${n}`)
        : [`node_modules/${e.name}`],
    );
    expect(shipped.sort()).toEqual(runtimeModuleFolders());
    // npm install would have left its lock file behind.
    expect(existsSync(join(dir, 'package-lock.json'))).toBe(false);
  });

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
    const bundle = readFileSync(join(dir, BUNDLE_DIR, 'index.mjs'), 'utf8');
    expect(bundle).not.toMatch(/@duckdb\/node-api|duckdb-engine/);
    // pdfkit is imported from the copied folder, not inlined.
    expect(bundle).toMatch(/from ["']pdfkit["']/);
  });

  it.each([
    'ExporterOnDemandFunction',
    'ExporterScheduledReviewFunction',
  ])('%s ships only the font files the PDF uses, and the asset is under 15 MB unzipped', (fn) => {
    const dir = assetDir(s, fn);
    for (const [folder, keep] of Object.entries(FONT_FILES_USED))
      expect(readdirSync(join(dir, folder)).sort(), folder).toEqual([...keep].sort());
    const sizeOf = (path: string): number =>
      statSync(path).isDirectory()
        ? readdirSync(path).reduce((n, name) => n + sizeOf(join(path, name)), 0)
        : statSync(path).size;
    const bytes = sizeOf(dir);
    console.info(`${fn}: asset ${(bytes / 1024 ** 2).toFixed(1)} MiB unzipped`);
    expect(bytes).toBeLessThan(15 * 1024 ** 2);
  });

  it('renders a PDF in plain Node with the shipped pdfkit, fontkit and every shipped font (nothing pruned that runs)', () => {
    const dir = assetDir(s, 'ExporterOnDemandFunction');
    const fonts = Object.entries(FONT_FILES_USED).flatMap(([folder, files]) =>
      files.map((f) => join(dir, folder, f)),
    );
    const script = `
      const { default: PDFDocument } = await import('pdfkit');
      const doc = new PDFDocument({ compress: true });
      const chunks = [];
      doc.on('data', (c) => chunks.push(c));
      const done = new Promise((r) => doc.on('end', r));
      for (const f of ${JSON.stringify(fonts)}) doc.font(f).text('Logon 4624 セッション ' + f);
      doc.font('Helvetica').text('standard font');
      doc.end();
      await done;
      process.stdout.write('BYTES' + Buffer.concat(chunks).length + '\\n');`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: dir,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '' },
    });
    const bytes = Number(/BYTES(\d+)/.exec(out)?.[1] ?? 0);
    expect(bytes).toBeGreaterThan(1000);
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

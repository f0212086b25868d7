/**
 * Synthesises the CDK app offline for the tests, with the context of cdk.json plus the given keys,
 * and reads the templates from the cloud assembly (Template.fromStack would throw while cdk-nag is
 * registered; app.synth() runs the nag validation and throws on any open finding).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp, type SessiontrailApp } from '../../infra/build-app.ts';

export const CDK_CONTEXT = (
  JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as {
    context: Record<string, unknown>;
  }
).context;

export interface Synthesised extends SessiontrailApp {
  readonly assembly: CloudAssembly;
  readonly storageTemplate: Template;
  readonly exporterTemplate: Template;
}

/** @param bundle run esbuild and npm for the functions (slow); off by default. */
export function synthApp(context: Record<string, unknown> = {}, bundle = false): Synthesised {
  const built = buildApp({
    outdir: mkdtempSync(join(tmpdir(), 'st-cdk-')),
    context: {
      ...CDK_CONTEXT,
      logsBucket: 'corp-security-logs',
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
  const assembly = built.app.synth();
  return {
    ...built,
    assembly,
    storageTemplate: Template.fromJSON(assembly.getStackByName(built.storage.stackName).template),
    exporterTemplate: Template.fromJSON(assembly.getStackByName(built.exporter.stackName).template),
  };
}

/** A CloudFormation value as one readable string: `{ Ref: X }` → `<X>`, joins flattened. */
export function flat(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if (typeof v.Ref === 'string') return `<${v.Ref}>`;
  if (Array.isArray(v['Fn::GetAtt'])) return `<${(v['Fn::GetAtt'] as string[]).join('.')}>`;
  if (v['Fn::ImportValue'] !== undefined) return `<import:${flat(v['Fn::ImportValue'])}>`;
  if (Array.isArray(v['Fn::Join'])) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(flat).join(sep);
  }
  return JSON.stringify(value);
}

export interface FlatStatement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly resources: string[];
  readonly condition?: unknown;
}

/** The statements of one IAM policy resource, flattened and with actions and resources as lists. */
export function flatStatements(statements: unknown[]): FlatStatement[] {
  return statements.map((raw) => {
    const s = raw as Record<string, unknown>;
    const list = (x: unknown) => (Array.isArray(x) ? x : [x]).map(flat);
    return {
      ...(s.Sid === undefined ? {} : { sid: s.Sid as string }),
      effect: s.Effect as string,
      actions: list(s.Action),
      resources: list(s.Resource),
      ...(s.Condition === undefined ? {} : { condition: flatCondition(s.Condition) }),
    };
  });
}

/** A condition block with its values flattened ({@link flat}); lists stay lists. */
function flatCondition(condition: unknown): unknown {
  return Object.fromEntries(
    Object.entries(condition as Record<string, Record<string, unknown>>).map(([op, keys]) => [
      op,
      Object.fromEntries(Object.entries(keys).map(([k, v]) => [k, Array.isArray(v) ? v.map(flat) : flat(v)])),
    ]),
  );
}

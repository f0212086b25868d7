/**
 * Powertools Logger, Metrics and Tracer, one of each per container (their configuration comes from
 * the POWERTOOLS_* variables the CDK app sets), and the middy middlewares that flush them. The
 * functions run with active X-Ray tracing (infra/constructs/exporter-function.ts): the Tracer turns
 * it into segments for the handler and for every AWS client call (Athena, S3, KMS, Lambda).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import { classifyError } from '../../lib/errors.ts';
import type { ExportResult } from '../../lib/export/export-evidence.ts';

export const logger = new Logger();
export const metrics = new Metrics();
export const tracer = new Tracer();

/** Context in every log line; a trace segment per invocation; metrics flushed at the end of each. */
export const observability = () => [
  injectLambdaContext(logger),
  captureLambdaHandler(tracer),
  logMetrics(metrics),
];

/**
 * Logs a failure that is about to be rethrown, with its code, whose fault it is, whether a retry can
 * help, and the keys of the pack concerned (series, pack id, window), so an operator finds the pack
 * from the alarm's log line.
 */
export function logFailure(what: string, err: unknown, keys: Readonly<Record<string, unknown>>): void {
  const { code, fault, retryable } = classifyError(err);
  logger.error(what, { code, fault, retryable, ...keys, error: err as Error });
  metrics.addMetric(fault === 'internal' ? 'InternalErrors' : 'Failures', MetricUnit.Count, 1);
}

/** What is worth a metric about an export: written or found sealed, sessions, bytes Athena scanned. */
export function recordExport(result: ExportResult): void {
  metrics.addMetric(result.status === 'written' ? 'PacksWritten' : 'PacksAlreadySealed', MetricUnit.Count, 1);
  metrics.addMetric('Sessions', MetricUnit.Count, result.pack.summary.sessions);
  const scanned = result.runs.reduce((sum, r) => sum + (r.bytesScanned ?? 0), 0);
  metrics.addMetric('BytesScanned', MetricUnit.Bytes, scanned);
}

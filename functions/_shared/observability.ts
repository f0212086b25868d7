/**
 * Powertools Logger and Metrics, one of each per container (their configuration comes from the
 * POWERTOOLS_* variables the CDK app sets), and the middy middlewares that flush them.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import type { ExportResult } from '../../lib/export/export-evidence.ts';

export const logger = new Logger();
export const metrics = new Metrics();

/** Context in every log line; metrics flushed at the end of each invocation. */
export const observability = () => [injectLambdaContext(logger), logMetrics(metrics)];

/** What is worth a metric about an export: written or found sealed, sessions, bytes Athena scanned. */
export function recordExport(result: ExportResult): void {
  metrics.addMetric(result.status === 'written' ? 'PacksWritten' : 'PacksAlreadySealed', MetricUnit.Count, 1);
  metrics.addMetric('Sessions', MetricUnit.Count, result.pack.summary.sessions);
  const scanned = result.runs.reduce((sum, r) => sum + (r.bytesScanned ?? 0), 0);
  metrics.addMetric('BytesScanned', MetricUnit.Bytes, scanned);
}

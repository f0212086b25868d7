/**
 * An organization trail's layout (`AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/`,
 * CloudTrail user guide) as one spec that both the Glue table of the stack and the Hive table of the
 * Trino tests are generated from.
 */
import { describe, expect, it } from 'vitest';
import { isSessiontrailError } from '../../lib/errors.ts';
import { buildPartitionRegistrations, partitionValuesOf } from '../../lib/locate/raw-table-ddl.ts';
import { CLOUDTRAIL_RAW_TABLE, cloudTrailRawTable } from '../../lib/sources/cloudtrail-raw-table.ts';
import { rawTableProblems } from '../../lib/sources/raw-table.ts';

describe('cloudTrailRawTable', () => {
  it('is the single-account layout without an organization id', () => {
    expect(cloudTrailRawTable()).toEqual(CLOUDTRAIL_RAW_TABLE);
    expect(CLOUDTRAIL_RAW_TABLE.location).toBe('cloudtrail-staging/records/AWSLogs');
    expect(CLOUDTRAIL_RAW_TABLE.stagedFrom).toBe('cloudtrail/AWSLogs');
  });

  it('puts an organization trail one folder deeper, with the same partitions, coherent', () => {
    const spec = cloudTrailRawTable('o-a1b2c3d4e5');
    expect(rawTableProblems(spec)).toEqual([]);
    expect(spec.location).toBe('cloudtrail-staging/records/AWSLogs/o-a1b2c3d4e5');
    expect(spec.stagedFrom).toBe('cloudtrail/AWSLogs/o-a1b2c3d4e5');
    expect(spec.partitions.map((p) => p.name)).toEqual(['account', 'region', 'day']);
    expect(partitionValuesOf(spec, '111122223333/CloudTrail/us-east-1/2024/03/04')).toEqual([
      '111122223333',
      'us-east-1',
      '2024/03/04',
    ]);
    expect(partitionValuesOf(spec, 'o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2024/03/04')).toBeNull();
    const [call] = buildPartitionRegistrations(
      spec,
      { catalog: 'hive', schema: 'raw', location: 'local:///logs/cloudtrail/AWSLogs/o-a1b2c3d4e5' },
      ['111122223333/CloudTrail/us-east-1/2024/03/04'],
    );
    expect(call).toContain(
      "'local:///logs/cloudtrail/AWSLogs/o-a1b2c3d4e5/111122223333/CloudTrail/us-east-1/2024/03/04'",
    );
  });

  it('refuses an organization id that is not o- and 10 to 32 lower-case letters or digits', () => {
    for (const bad of ['o-short', 'O-A1B2C3D4E5', 'a1b2c3d4e5', 'o-a1b2c3d4e5/..']) {
      let err: unknown;
      try {
        cloudTrailRawTable(bad);
      } catch (e) {
        err = e;
      }
      expect(isSessiontrailError(err, 'BAD_CONFIG'), bad).toBe(true);
    }
  });
});

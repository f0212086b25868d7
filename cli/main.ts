/**
 * The `sessiontrail` command line: parses arguments, calls one use case, prints the outcome.
 * Exit codes: 0 success, 1 verification failed, 2 bad input (what to fix is printed), 3 other errors.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { classifyError, isSessiontrailError } from '../lib/errors.ts';
import { checkMemoryLimit } from '../lib/query/duckdb/duckdb-engine.ts';
import {
  runDemo,
  runExport,
  runKeygen,
  runRederive,
  runSample,
  runTrinoTables,
  runVerify,
} from './commands.ts';
import { TOOL_VERSION } from './deps.ts';

const collect = (value: string, previous: string[]) => [...previous, value];
const positiveInt = (name: string) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a whole number of at least 1`);
  return n;
};

/** A DuckDB memory limit, checked by the engine's own rule. */
const memorySize = (value: string) => {
  try {
    return checkMemoryLimit(value);
  } catch (e) {
    throw new InvalidArgumentError(e instanceof Error ? e.message : String(e));
  }
};
const MEMORY_LIMIT_HELP =
  'DuckDB memory limit of every statement, e.g. 2GB (default: 512MB, 2GB for statements that read a JSON file as one document); raise it when a statement reports Out of Memory';

const program = new Command()
  .name('sessiontrail')
  .version(TOOL_VERSION)
  .description(
    'Rebuilds privileged logon sessions (logon -> privileges -> activity -> logoff) from Windows Security logs ' +
      'and seals them into evidence packs (evidence.json + evidence.pdf + manifest + signature) that openssl alone can verify.',
  )
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program
  .command('demo')
  .description(
    'Generate sample logs, export a review pack from them with DuckDB, and verify it: the whole job in one command.',
  )
  .option('--out <dir>', 'where packs are written (the store root)', 'evidence')
  .option('--key <file>', 'signing key; created if missing', '.sessiontrail/signing-key.pem')
  .option('--json', 'print the outcome as JSON')
  .action(runDemo);

program
  .command('sample')
  .description(
    'Write seeded, realistic sample logs with ground-truth files: Windows Security (NXLog and Winlogbeat layouts), Linux auditd and auth.log, CloudTrail, OCSF.',
  )
  .requiredOption(
    '--out <dir>',
    'folder to write <out>/<source>/... and one <source>ground-truth.json per sample',
  )
  .option(
    '--source <name>',
    'windows, linux, cloudtrail or ocsf (repeatable); default: all four',
    collect,
    [],
  )
  .option('--hosts <n>', 'number of hosts', positiveInt('--hosts'), 6)
  .option('--days <n>', 'number of days', positiveInt('--days'), 2)
  .option('--seed <n>', 'random seed: the same seed writes the same bytes', positiveInt('--seed'), 42)
  .option('--from <date>', 'first day (UTC), YYYY-MM-DD', '2024-03-04')
  .option('--json', 'print the outcome as JSON')
  .action(runSample);

program
  .command('export')
  .description('Build, sign and store one evidence pack from logs on disk.')
  .addOption(
    new Option(
      '--kind <kind>',
      'review: all privileged sessions; audit: given users/hosts; incident: every session of given users/hosts',
    )
      .choices(['review', 'audit', 'incident'])
      .makeOptionMandatory(),
  )
  .requiredOption('--from <iso>', 'window start (inclusive), e.g. 2024-07-01 or 2024-07-01T00:00:00Z')
  .requiredOption('--to <iso>', 'window end (exclusive)')
  .option(
    '--logs <path>',
    'a folder laid out like S3 (<logs>/windows/dt=YYYY-MM-DD/), a plain folder, or one file (DuckDB engine)',
  )
  .option('--out <dir>', 'where packs are written (the store root)', 'evidence')
  .option('--source <name>', 'source to read (repeatable); default: all', collect, [])
  .option(
    '--user <name>',
    'account: name, DOMAIN\\name, SID, uid, IAM user name or ARN (repeatable)',
    collect,
    [],
  )
  .option('--host <name>', 'host name or its short name (repeatable)', collect, [])
  .option(
    '--allow-empty',
    'seal the pack even when a --user or --host matches nothing (refused with the nearest matches otherwise)',
  )
  .option('--incident-id <id>', 'incident identifier (incident packs)')
  .option('--requester <who>', 'who asked for the pack (audit packs)')
  .option('--reason <text>', 'why the pack was asked for (audit packs)')
  .option(
    '--control-reference <ref>',
    "the control this pack evidences, printed in the PDF's sign-off block (default: the configuration's findings.control_reference)",
  )
  .option('--series <name>', 'series folder; packs of a series are chained (default: the kind)')
  .option('--config <file>', 'configuration JSON: privileged accounts, suppression rules, look-back')
  .option('--key <file>', 'signing key (PEM) made by `sessiontrail keygen`', '.sessiontrail/signing-key.pem')
  .option('--threads <n>', 'DuckDB worker threads (default: all cores)', positiveInt('--threads'))
  .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memorySize)
  .addOption(
    new Option('--engine <engine>', 'duckdb: local files (--logs); trino: the raw tables of a Trino catalog')
      .choices(['duckdb', 'trino'])
      .default('duckdb'),
  )
  .option('--trino-url <url>', 'Trino coordinator, e.g. http://trino:8080 (--engine trino)')
  .option('--trino-catalog <name>', 'catalog of the raw tables', 'hive')
  .option(
    '--trino-schema <name>',
    'schema of the raw tables (see `sessiontrail trino-tables`)',
    'sessiontrail_raw',
  )
  .option('--trino-work-catalog <name>', 'writable catalog for the working tables', 'memory')
  .option(
    '--trino-work-schema <name>',
    'schema for the working tables (one pack at a time per schema)',
    'sessiontrail_work',
  )
  .option(
    '--trino-logs-root <uri>',
    "the raw tables' logs root, left out of the object keys the pack records",
  )
  .option('--trino-user <name>', 'Trino user (default: the OS user)')
  .option(
    '--max-file-mib <n>',
    'largest decompressed size of one log file in MiB (default 4096); a larger file is reported as damaged, not read',
    positiveInt('--max-file-mib'),
  )
  .option(
    '--tsa-url <url>',
    'RFC 3161 Time-Stamping Authority that timestamps the manifest (manifest.tsr); default $SESSIONTRAIL_TSA_URL when set',
  )
  .option('--json', 'print the outcome as JSON')
  .addHelpText(
    'after',
    '\nExamples:\n' +
      '  sessiontrail export --kind review --from 2024-03-01 --to 2024-04-01 --logs ./logs\n' +
      '  sessiontrail export --kind review --from 2024-03-01 --to 2024-04-01 --engine trino \\\n' +
      '      --trino-url http://trino:8080 --trino-schema sessiontrail_raw --trino-logs-root s3://corp-logs/logs/\n' +
      '  sessiontrail export --kind audit --from 2024-07-01 --to 2024-10-01 --logs ./logs \\\n' +
      '      --user CORP\\\\adm.alice --requester "J. Auditor" --reason "Q3 SOX review"\n' +
      '  sessiontrail export --kind incident --incident-id IR-123 --host WS01 \\\n' +
      '      --from 2024-03-04T08:00:00Z --to 2024-03-04T20:00:00Z --logs ./logs',
  )
  .action(runExport);

program
  .command('trino-tables')
  .description(
    'Create the raw tables sessiontrail reads in a Trino Hive catalog, over logs laid out like the S3 bucket.',
  )
  .requiredOption(
    '--location <uri>',
    'the logs root as Trino reads it, e.g. s3://corp-logs/logs or local:///srv/logs',
  )
  .option('--source <name>', 'source whose table to create (repeatable); default: all', collect, [])
  .option(
    '--logs <dir>',
    "the same logs on this machine, to list CloudTrail's date folders (else none are registered)",
  )
  .option('--trino-url <url>', 'Trino coordinator, e.g. http://trino:8080')
  .option('--trino-catalog <name>', 'a Hive catalog', 'hive')
  .option('--trino-schema <name>', 'schema to create the tables in', 'sessiontrail_raw')
  .option('--trino-user <name>', 'Trino user (default: the OS user)')
  .option(
    '--ocsf-lines',
    'OCSF is written as JSON (lines, documents, arrays), not Parquet, as the sample writes it: staged per record so that positions are cited',
  )
  .option('--print', 'only print the statements')
  .option('--json', 'print the outcome as JSON')
  .action((opts) =>
    runTrinoTables({ ...opts, trinoWorkCatalog: 'memory', trinoWorkSchema: 'sessiontrail_work' }),
  );

program
  .command('verify')
  .description(
    'Verify a pack (signature, DSSE envelope, every digest, no extra files, schema, the PDF attachment, the folder it sits in) ' +
      'or, with --series, a whole series (sequence, links, replaced or reordered packs, cadence gaps). ' +
      'Says what it proved: without a trusted key only integrity ("origin: not checked"), and it exits 1 unless --allow-untrusted-key.',
  )
  .argument(
    '[pack-dir]',
    'the pack folder, <out>/<series>/<pack-id> or s3://bucket[/prefix]/<series>/<pack-id>',
  )
  .option(
    '--key <public.pem>',
    'a public key you trust, obtained from the publisher out of band (repeatable)',
    collect,
    [],
  )
  .option(
    '--trust-file <file>',
    'a file of trusted PEM public keys (default: $SESSIONTRAIL_TRUST_FILE when set)',
  )
  .option('--kms-key-id <id>', 'trust the public key of this AWS KMS key (GetPublicKey)')
  .option(
    '--allow-untrusted-key',
    'accept a pack checked only with the key stored beside it (integrity, not origin); the output still says "origin: not checked"',
  )
  .option(
    '--series <dir>',
    'verify every pack of a series folder, <out>/<series> or s3://bucket[/prefix]/<series>',
  )
  .option(
    '--expect-head <n>',
    'with --series: the head sequence you recorded last time',
    positiveInt('--expect-head'),
  )
  .option(
    '--tsa-ca <pem>',
    'PEM certificates of the TSA CAs you trust: the pack must then carry manifest.tsr from a TSA they issued',
  )
  .option('--json', 'print the checks as JSON')
  .addHelpText(
    'after',
    '\nExit codes: 0 verified (origin checked, or --allow-untrusted-key), 1 not verified, 2 bad input.\n' +
      'Examples:\n' +
      '  sessiontrail verify --key publisher.pem evidence/review/review-2024-03-01-0123456789ab\n' +
      '  sessiontrail verify --trust-file trusted-keys.pem --series evidence/review --expect-head 12',
  )
  .action(runVerify);

program
  .command('rederive')
  .description(
    'Re-derive a pack: re-read exactly the inputs it lists (each of its size and sha256), re-run its statements from its recorded request, and show that evidence.json comes out byte-identical, or where it first differs.',
  )
  .argument(
    '<pack-dir>',
    'the pack folder, <out>/<series>/<pack-id> or s3://bucket[/prefix]/<series>/<pack-id>',
  )
  .requiredOption('--logs <path>', "your copy of the pack's logs: the folder its input keys are relative to")
  .option('--config <file>', 'the configuration the pack was built with (its sha256 is in evidence.json)')
  .option('--threads <n>', 'DuckDB worker threads (default: all cores)', positiveInt('--threads'))
  .option('--memory-limit <size>', MEMORY_LIMIT_HELP, memorySize)
  .option('--json', 'print the outcome as JSON')
  .addHelpText(
    'after',
    '\nExit codes: 0 byte-identical, 1 an input missing or changed, or evidence.json differs, 2 bad input.\n' +
      'Example:\n' +
      '  sessiontrail rederive evidence/demo-review/review-2024-03-04-48bedd302f80 \\\n' +
      '      --logs .sessiontrail/demo-logs --config config/demo.config.json',
  )
  .action(runRederive);

program
  .command('keygen')
  .description('Create a local ECDSA P-256 signing key (never overwrites).')
  .option('--key <file>', 'where to write the private key (PEM, mode 0600)', '.sessiontrail/signing-key.pem')
  .option('--json', 'print the outcome as JSON')
  .action(runKeygen);

for (const command of program.commands) command.exitOverride();

// A signal ends the process without its 'exit' event unless handled: handled, so that the engine's
// spill folder and the scratch copies of logs are removed (their 'exit' hooks) on Ctrl-C too.
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const)
  process.once(signal, () => process.exit(code));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // commander has printed its message; help and version are successes, the rest bad input.
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else if (isSessiontrailError(err)) {
    const { exit, fault } = classifyError(err);
    const bug = fault === 'internal' ? ' (a bug in sessiontrail: please report it with this message)' : '';
    process.stderr.write(`sessiontrail: ${err.message} [${err.code}]${bug}\n`);
    process.exitCode = exit;
  } else {
    process.stderr.write(
      `sessiontrail: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
    );
    process.exitCode = 3;
  }
}

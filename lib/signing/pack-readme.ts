import { sha256Hex } from '../evidence/canonical-json.ts';
import { compareCodeUnits, PACK_PREDICATE_TYPE } from './manifest.ts';

/** The name of the README every pack folder holds (a subject of the manifest like any artifact). */
export const README_FILE = 'README.txt';

/** What the README of one pack says. */
export interface PackReadmeInput {
  readonly series: string;
  readonly packId: string;
  readonly sequence: number;
  readonly sealedAt: string;
  readonly keyId: string;
  /** Every other artifact of the pack (not the README, manifest, signature or envelope). */
  readonly artifacts: readonly { readonly name: string; readonly bytes: Uint8Array }[];
  /**
   * The manifest is timestamped by an RFC 3161 TSA (`manifest.tsr`): the README says how to check it.
   * @default false
   */
  readonly timestamped?: boolean;
}

const DESCRIPTIONS: readonly [RegExp, string][] = [
  [
    /^evidence\.json$/,
    'the evidence: sessions and timelines, completeness, orphans, coverage (RFC 8785 JSON)',
  ],
  [/^evidence\.pdf$/, 'the same evidence for a person (PDF/A-3b); evidence.json is attached to it'],
  [/^queries\/.+\.sql$/, 'SQL that ran, with its parameters'],
];

/**
 * The text of `README.txt`: what each file of the pack is and the exact commands that verify it,
 * run from the pack folder with openssl and sha256sum only. It lists the
 * sha256 of every other artifact in `sha256sum -c` format, so one grep checks them all; the README's
 * own digest is in the signed manifest. The same input gives the same bytes (no clock).
 */
export function packReadme(input: PackReadmeInput): string {
  const files = [...input.artifacts].sort((a, b) => compareCodeUnits(a.name, b.name));
  const describe = (name: string) =>
    DESCRIPTIONS.find(([re]) => re.test(name))?.[1] ?? 'an artifact of the pack';
  const width = Math.max(20, ...files.map((f) => f.name.length + 2));
  const rows = [
    ...files.map((f) => `  ${f.name.padEnd(width)}${describe(f.name)}`),
    `  ${README_FILE.padEnd(width)}this file`,
    `  ${'manifest.json'.padEnd(width)}in-toto Statement v1: every file above with its sha256, the sequence, sealing time, operator, request`,
    `  ${'manifest.sig'.padEnd(width)}ECDSA P-256 / SHA-256 signature of manifest.json (DER)`,
    `  ${'manifest.dsse.json'.padEnd(width)}manifest.json in a DSSE envelope, for in-toto and cosign tools`,
    ...(input.timestamped === true
      ? [
          `  ${'manifest.tsr'.padEnd(width)}RFC 3161 timestamp of manifest.json from a Time-Stamping Authority`,
        ]
      : []),
  ];
  const timestampSteps =
    input.timestamped === true
      ? [
          '5. The manifest existed at the TSA\'s time: prints "Verification: OK". tsa-ca.pem is the',
          "  TSA's CA certificate, obtained from the TSA; the second command shows the time.",
          '  $ openssl ts -verify -in manifest.tsr -data manifest.json -CAfile tsa-ca.pem',
          '  $ openssl ts -reply -in manifest.tsr -text | grep "Time stamp"',
        ]
      : [];
  return [
    `sessiontrail evidence pack ${input.series}/${input.packId}`,
    `sequence ${input.sequence} of series ${input.series}, sealed ${input.sealedAt}`,
    `signed by key ${input.keyId}`,
    '',
    'Files',
    ...rows,
    '',
    "How to verify, from this folder. First save the signer's public key as trusted-key.pem,",
    'obtained from the publisher out of band: NOT the copy in keys/ beside the packs, which whoever',
    'can change a pack can change too.',
    '',
    "1. The key is the signer's: prints the key id above.",
    '  $ openssl pkey -pubin -in trusted-key.pem -outform DER | sha256sum',
    '2. The manifest is signed by it: prints "Verified OK".',
    '  $ openssl dgst -sha256 -verify trusted-key.pem -signature manifest.sig manifest.json',
    '3. This README is the one the manifest lists: prints 1.',
    `  $ grep -c "$(sha256sum ${README_FILE} | cut -c1-64)\\"},\\"name\\":\\"${README_FILE}\\"" manifest.json`,
    '4. Every other file is as sealed: prints "<file>: OK" for each.',
    `  $ grep -E '^[0-9a-f]{64}  ' ${README_FILE} | sha256sum -c`,
    ...timestampSteps,
    '',
    `manifest.dsse.json carries the same manifest (predicate type ${PACK_PREDICATE_TYPE}) for DSSE`,
    'tools; its signature is over the DSSE pre-authentication encoding, not over manifest.json.',
    '',
    `With sessiontrail: sessiontrail verify --key trusted-key.pem${input.timestamped === true ? ' --tsa-ca tsa-ca.pem' : ''} .`,
    'and the whole series: sessiontrail verify --key trusted-key.pem --series ..',
    'Re-derive evidence.json from your copy of the logs it lists (its "inputs"):',
    "  sessiontrail rederive . --logs <your copy of the logs> --config <the pack's configuration>",
    '',
    'sha256 of the files above (for step 4):',
    ...files.map((f) => `${sha256Hex(f.bytes)}  ${f.name}`),
    '',
  ].join('\n');
}

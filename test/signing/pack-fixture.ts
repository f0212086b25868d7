/**
 * Shared by the signing tests: a store in a temp folder, a real key, packs sealed with a real PDF
 * (pdfkit, evidence.json attached as pdfkit attaches it in lib/render/pdf/render-pdf.ts), and the
 * attacker's moves (overwrite a read-only file, re-sign a manifest).
 */
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import PDFDocument from 'pdfkit';
import { type Clock, fixedClock } from '../../lib/clock.ts';
import { canonicalBytes } from '../../lib/evidence/canonical-json.ts';
import type { EvidencePack } from '../../lib/evidence/model.ts';
import { envelopeBytes, IN_TOTO_PAYLOAD_TYPE, pae } from '../../lib/signing/dsse.ts';
import { generateKeyPair } from '../../lib/signing/keygen.ts';
import { LocalKeySigner } from '../../lib/signing/local-key-signer.ts';
import { type SealedPack, sealPack } from '../../lib/signing/seal-pack.ts';
import type { Signer } from '../../lib/signing/signer.ts';
import { FsEvidenceStore } from '../../lib/storage/fs-evidence-store.ts';
import { populatedPack } from '../fixtures/minimal-pack.ts';

export const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
export const TOOL = {
  name: 'sessiontrail',
  version: '0.1.0',
  engine: { name: 'duckdb', version: '1.5.6' },
} as const;

/** A small real PDF with `attachment` embedded under `name`, as pdfkit embeds evidence.json. */
export async function pdfWithAttachment(attachment: Uint8Array, name = 'evidence.json'): Promise<Uint8Array> {
  const doc = new PDFDocument({
    pdfVersion: '1.7',
    info: { CreationDate: new Date(0), ModDate: new Date(0) },
  });
  const chunks: Uint8Array[] = [];
  doc.on('data', (c: Uint8Array) => chunks.push(c));
  const done = new Promise<void>((resolve) => doc.on('end', () => resolve()));
  doc.file(Buffer.from(attachment), {
    name,
    type: 'application/json',
    creationDate: new Date(0),
    modifiedDate: new Date(0),
  });
  doc.text('sessiontrail test pack');
  doc.end();
  await done;
  return new Uint8Array(Buffer.concat(chunks));
}

export interface Fixture {
  readonly root: string;
  readonly store: FsEvidenceStore;
  readonly signer: LocalKeySigner;
  readonly publicKeyPem: string;
  readonly otherKeyPem: string;
}

/** A store in a temp folder, a signing key, and a second key that signed nothing. */
export async function prepare(): Promise<Fixture> {
  const root = await mkdtemp(join(tmpdir(), 'sessiontrail-verify-'));
  await generateKeyPair(join(root, 'key.pem'));
  const other = await generateKeyPair(join(root, 'other-key.pem'));
  const signer = await LocalKeySigner.fromFile(join(root, 'key.pem'));
  return {
    root,
    store: new FsEvidenceStore(join(root, 'store')),
    signer,
    publicKeyPem: await signer.publicKeyPem(),
    otherKeyPem: other.publicKeyPem,
  };
}

/** The artifacts of a pack of `evidence`: evidence.json, a PDF embedding it (or `pdfEvidence`), two queries. */
export async function artifactsOf(
  evidence: unknown,
  pdfEvidence?: Uint8Array,
): Promise<{ name: string; bytes: Uint8Array }[]> {
  const json = canonicalBytes(evidence);
  return [
    { name: 'evidence.json', bytes: json },
    { name: 'evidence.pdf', bytes: await pdfWithAttachment(pdfEvidence ?? json) },
    { name: 'queries/01-normalise-windows.sql', bytes: bytes('SELECT * FROM windows_raw\n') },
    { name: 'queries/02-sessions.sql', bytes: bytes('SELECT host, logon_id FROM events\n') },
  ];
}

/** `populatedPack()` renamed to `packId` in `series` (and given a window, for series tests). */
export function evidenceFor(
  packId: string,
  series = populatedPack().pack.series,
  window?: { from: string; to: string },
): EvidencePack {
  const pack = populatedPack();
  return { ...pack, pack: { ...pack.pack, id: packId, series, ...(window ? { window } : {}) } };
}

/** Seals a pack of `evidence` (default: the populated fixture named `packId`). */
export async function seal(
  f: { store: FsEvidenceStore; signer: Signer },
  packId: string,
  options: { evidence?: unknown; series?: string; clock?: Clock; pdfEvidence?: Uint8Array } = {},
): Promise<SealedPack> {
  // One series per pack unless told: a series refuses to link past a pack that does not verify.
  const series = options.series ?? `series-${packId}`;
  return sealPack(
    { store: f.store, signer: f.signer, clock: options.clock ?? fixedClock('2024-02-01T03:00:00.000Z') },
    {
      series,
      packId,
      artifacts: await artifactsOf(options.evidence ?? evidenceFor(packId, series), options.pdfEvidence),
      tool: TOOL,
      facts: { operator: 'test', request: null },
    },
  );
}

/** Writes over a sealed (0444) file, as an attacker with access to the folder could. */
export async function overwrite(path: string, data: Uint8Array): Promise<void> {
  await chmod(path, 0o644).catch(() => undefined);
  await writeFile(path, data);
  await chmod(path, 0o444);
}

/** Replaces a pack's manifest with `manifest` and signs it (and its DSSE envelope) with `signer`. */
export async function resign(packPath: string, manifest: Uint8Array, signer: Signer): Promise<void> {
  await overwrite(join(packPath, 'manifest.json'), manifest);
  await overwrite(join(packPath, 'manifest.sig'), await signer.sign(manifest));
  const sig = await signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, manifest));
  await overwrite(join(packPath, 'manifest.dsse.json'), envelopeBytes(manifest, await signer.keyId(), sig));
}

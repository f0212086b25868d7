/**
 * The one Lambda construct of sessiontrail, with the defaults baked in: Node.js 22 on arm64,
 * 2 GiB, 15 minutes, active tracing, a log group with a retention, and the bundling that ships what
 * the evidence code loads at run time (the evidence schema, the PDF fonts, pdfkit).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** The repository root: the lock file, `schema/` and `package.json` live here. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * Packages the bundle ships as folders instead of inlining: pdfkit loads its standard fonts through
 * `createRequire`, and the PDF's TrueType fonts are read from the `dejavu-fonts-ttf` and
 * `@embedpdf/fonts-jp` packages by path (lib/render/pdf/font-set.ts); fontkit is pdfkit's and ours,
 * shipped once. They and their production dependencies are **copied from the repository's own
 * node_modules** (the versions `npm ci` installed from the lock file), never installed at synth
 * time: `cdk synth` needs no registry and no network.
 */
export const RUNTIME_NODE_MODULES = ['pdfkit', 'fontkit', 'dejavu-fonts-ttf', '@embedpdf/fonts-jp'] as const;

/**
 * The font files lib/render/pdf/font-set.ts opens, by folder: the only ones shipped. The packages
 * hold 22 DejaVu faces (12 MB) and 7 Noto Sans JP weights (31 MB); the PDF uses four files. The
 * bundle test runs the bundled handler's `check`, which loads these fonts, so a file the renderer
 * starts to use and this list lacks fails it.
 */
export const FONT_FILES_USED: Readonly<Record<string, readonly string[]>> = {
  'node_modules/dejavu-fonts-ttf/ttf': ['DejaVuSans.ttf', 'DejaVuSans-Bold.ttf', 'DejaVuSansMono.ttf'],
  'node_modules/@embedpdf/fonts-jp/fonts': ['NotoSansJP-Regular.otf'],
};

/**
 * Files of the runtime packages Node never loads here, left out of the asset: the bundle imports
 * pdfkit and fontkit as ES modules, and their `exports` give Node's `import` `pdfkit.node.mjs` and
 * `module.mjs` (which imports `@swc/helpers/_/…`, mapped to its `esm/`), so the browser, standalone
 * and CommonJS builds (`pdfkit.js`, `main.cjs`, `@swc/helpers/cjs`) are never loaded; the TypeScript sources of fontkit, @swc/helpers and @noble, brotli's encoder (fontkit imports
 * `brotli/decompress.js` only), pako's and fflate's browser bundles (`dist/`, `umd/`: Node loads
 * `index.js` and `esm/index.mjs`), DejaVu's coverage tables and fontconfig snippets. Source maps,
 * TypeScript declarations and pdfkit's vendored yarn release are removed by pattern
 * ({@link bundlingOptions}).
 */
export const UNUSED_RUNTIME_FILES = [
  'node_modules/pdfkit/js/pdfkit.browser.js',
  'node_modules/pdfkit/js/pdfkit.browser.mjs',
  'node_modules/pdfkit/js/pdfkit.browser.old.js',
  'node_modules/pdfkit/js/pdfkit.browser.old.mjs',
  'node_modules/pdfkit/js/pdfkit.standalone.js',
  'node_modules/pdfkit/js/pdfkit.old.js',
  'node_modules/pdfkit/js/pdfkit.js',
  'node_modules/fontkit/dist/browser.cjs',
  'node_modules/fontkit/dist/browser-module.mjs',
  'node_modules/fontkit/dist/main.cjs',
  'node_modules/@swc/helpers/cjs',
  'node_modules/fontkit/src',
  'node_modules/@swc/helpers/src',
  'node_modules/@swc/helpers/scripts',
  'node_modules/@noble/ciphers/src',
  'node_modules/@noble/hashes/src',
  'node_modules/brotli/build',
  'node_modules/brotli/enc',
  'node_modules/brotli/compress.js',
  'node_modules/pako/dist',
  'node_modules/fflate/umd',
  'node_modules/dejavu-fonts-ttf/fontconfig',
  'node_modules/dejavu-fonts-ttf/langcover.txt',
  'node_modules/dejavu-fonts-ttf/unicover.txt',
  'node_modules/dejavu-fonts-ttf/status.txt',
] as const;

/**
 * Folder of the bundle inside the asset. lib/evidence/schema.ts reads
 * `../../schema/evidence.schema.json` relative to its module; in the bundle that module is
 * `index.mjs`, so it sits two folders deep and `schema/` is copied to the asset root.
 */
export const BUNDLE_DIR = 'functions/bundle';

export interface ExporterFunctionProps {
  /** The handler module, relative to the project root (`functions/on-demand.ts`). */
  readonly entry: string;
  /** The execution role; its permissions are granted by the caller. */
  readonly role: iam.IRole;
  readonly description: string;
  /** Added to the defaults (service name, metrics namespace, tool version, source maps). */
  readonly environment?: Readonly<Record<string, string>>;
  /** A sessiontrail configuration file to ship as `sessiontrail.config.json`. @default - none: the built-in defaults */
  readonly configFile?: string;
  /** @default 30 days */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Rendering a large pack's PDF peaks near 800 MB (README figures); 2 GiB also gives more CPU.
   * @default 2048
   */
  readonly memorySize?: number;
  /** @default 15 minutes (the Lambda maximum: a month of Athena queries plus the PDF) */
  readonly timeout?: Duration;
  /** Metrics namespace for Powertools. @default 'sessiontrail' */
  readonly metricsNamespace?: string;
  /** Reserved concurrent executions. @default - none reserved */
  readonly reservedConcurrency?: number;
}

/** A Node.js 22 / arm64 Lambda running one sessiontrail handler. */
export class ExporterFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: ExporterFunctionProps) {
    super(scope, id);
    const entry = join(PROJECT_ROOT, props.entry);
    if (!existsSync(entry)) throw new Error(`ExporterFunction entry: no file ${entry}`);
    const configFile = props.configFile === undefined ? undefined : resolve(PROJECT_ROOT, props.configFile);
    if (configFile !== undefined && !existsSync(configFile))
      throw new Error(`ExporterFunction configFile: no file ${configFile}`);

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const version = (
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }
    ).version;

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      entry,
      handler: `${BUNDLE_DIR}/index.handler`,
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 2048,
      timeout: props.timeout ?? Duration.minutes(15),
      ...(props.reservedConcurrency === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrency }),
      tracing: lambda.Tracing.ACTIVE,
      role: props.role,
      logGroup: this.logGroup,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      projectRoot: PROJECT_ROOT,
      environment: {
        POWERTOOLS_SERVICE_NAME: 'sessiontrail',
        POWERTOOLS_METRICS_NAMESPACE: props.metricsNamespace ?? 'sessiontrail',
        SESSIONTRAIL_VERSION: version,
        NODE_OPTIONS: '--enable-source-maps',
        ...(configFile === undefined
          ? {}
          : { SESSIONTRAIL_CONFIG_PATH: '/var/task/sessiontrail.config.json' }),
        ...props.environment,
      },
      bundling: bundlingOptions(configFile),
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'Pinned to nodejs22.x, the runtime the bundle targets (esbuild target node22) and the tests run against; a newer runtime is a deliberate upgrade with its own test run, not a silent one at deploy.',
    });
  }
}

/** The bundling of every sessiontrail function (exported for the bundle test). */
export function bundlingOptions(configFile?: string): nodejs.BundlingOptions {
  return {
    format: nodejs.OutputFormat.ESM,
    target: 'node22',
    platform: 'node',
    mainFields: ['module', 'main'],
    sourceMap: true,
    // Stack traces need the mappings, not a copy of every source (that copy was 3 MB of the asset).
    sourcesContent: false,
    minify: false,
    // Bundle the AWS SDK too: the version tested is the version that runs. The runtime packages stay
    // external and are copied below (no `nodeModules`: that would run npm install at synth).
    externalModules: [...RUNTIME_NODE_MODULES],
    // CommonJS dependencies bundled into ESM still call require(); give them one.
    banner:
      "import { createRequire as __stCreateRequire } from 'node:module'; const require = __stCreateRequire(import.meta.url);",
    forceDockerBundling: false,
    commandHooks: {
      beforeBundling: () => [],
      beforeInstall: () => [],
      afterBundling: (inputDir: string, outputDir: string) => [
        `mkdir -p "${outputDir}/${BUNDLE_DIR}"`,
        `mv "${outputDir}/index.mjs" "${outputDir}/index.mjs.map" "${outputDir}/${BUNDLE_DIR}/"`,
        `cp -R "${inputDir}/schema" "${outputDir}/schema"`,
        // Listed from the project root here (inputDir can be the Docker mount /asset-input).
        ...runtimeModuleFolders().flatMap((folder) => [
          `mkdir -p "${dirname(`${outputDir}/${folder}`)}"`,
          `cp -R "${inputDir}/${folder}" "${outputDir}/${folder}"`,
        ]),
        ...(configFile === undefined ? [] : [`cp "${configFile}" "${outputDir}/sessiontrail.config.json"`]),
        // Only what runs: the fonts the PDF uses, no browser builds, maps or vendored tools.
        ...Object.entries(FONT_FILES_USED).map(
          ([folder, keep]) =>
            `find "${outputDir}/${folder}" -type f ${keep.map((f) => `! -name "${f}"`).join(' ')} -delete`,
        ),
        `rm -rf ${UNUSED_RUNTIME_FILES.map((f) => `"${outputDir}/${f}"`).join(' ')}`,
        `find "${outputDir}/node_modules" -type f \\( -name "*.map" -o -name "*.d.ts" -o -name "*.d.mts" -o -name "*.d.cts" \\) -delete`,
        `find "${outputDir}/node_modules" -type d -name .yarn -prune -exec rm -rf {} +`,
      ],
    },
  };
}

interface PackageManifest {
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
}

/**
 * The folders (relative to `root`, `/`-separated) to copy so that `names` and their production
 * dependency closure resolve at run time exactly as in `root`: each package is found the way Node
 * finds it (its own `node_modules`, then its parents'), and only top-level folders are listed, as a
 * nested `node_modules` comes along with the package that holds it. Optional dependencies that are
 * not installed are left out.
 * @throws Error naming a package that is not installed (run `npm ci` first).
 */
export function runtimeModuleFolders(
  root: string = PROJECT_ROOT,
  names: readonly string[] = RUNTIME_NODE_MODULES,
): string[] {
  const find = (name: string, from: string): string | undefined => {
    for (let dir = from; ; dir = dirname(dir)) {
      const candidate = join(dir, 'node_modules', name);
      if (existsSync(join(candidate, 'package.json'))) return candidate;
      if (dir === root || dirname(dir) === dir) return undefined;
    }
  };
  const seen = new Set<string>();
  const visit = (name: string, from: string, optional: boolean): void => {
    const dir = find(name, from);
    if (dir === undefined) {
      if (optional) return;
      throw new Error(
        `bundling: package ${name} (needed from ${relative(root, from) || '.'}) is not installed; run npm ci`,
      );
    }
    if (seen.has(dir)) return;
    seen.add(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageManifest;
    for (const dep of Object.keys(manifest.dependencies ?? {})) visit(dep, dir, false);
    for (const dep of Object.keys(manifest.optionalDependencies ?? {})) visit(dep, dir, true);
  };
  for (const name of names) visit(name, root, false);
  const top = /^node_modules\/(@[^/]+\/)?[^/]+$/;
  return [...seen]
    .map((dir) => relative(root, dir).split(sep).join('/'))
    .filter((folder) => top.test(folder))
    .sort();
}

// The settings from one source: each app's settings schema (zod, a `.meta()` on every setting;
// see `brokerEnvShape` in packages/runtime/src/settings.ts) gives both its `--help` list (a
// generated plain-data module, so that `--help` loads no zod) and its table in
// docs/settings.md. `pnpm settings:generate` writes them (generate-settings-docs.ts); the test
// test/settings-docs.test.ts fails when the committed ones differ from what the schemas give.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as prettier from 'prettier';

/** The command that writes the generated files again. */
export const GENERATE_COMMAND = 'pnpm settings:generate';

/** The page of the settings tables, from the repository root. */
export const SETTINGS_PAGE = 'docs/settings.md';

/** A setting's schema, as far as the generator reads it: a zod schema. */
export interface SettingSchema {
  /** zod's `.meta()`: the setting's documentation, if it has any. */
  meta(): unknown;
  safeParse(value: unknown): { readonly success: boolean; readonly data?: unknown };
}

/** An app's settings: a zod object shape, the setting's name to its schema. */
export type SettingsShape = Readonly<Record<string, SettingSchema>>;

/** A setting as the docs and `--help` show it. Markdown: backticks mark code. */
export interface SettingDoc {
  readonly name: string;
  /** A plain default as a code span (`5000`), `unset`, or the schema's `defaultText`. */
  readonly defaultText: string;
  /** One line: `--help` shows it (without the backticks), and the docs. */
  readonly description: string;
  /** More, for the docs only. */
  readonly details?: string;
}

/** A setting as `--help` lists it (runtime's `SettingHelp`): name, default, meaning, plain text. */
export type HelpRow = readonly [name: string, fallback: string, meaning: string];

type Applied =
  { readonly kind: 'unset' } | { readonly kind: 'plain'; readonly text: string } | { readonly kind: 'other' };

/** The default a schema applies to an unset variable, as far as it can be shown as it is. */
function appliedDefault(schema: SettingSchema): Applied {
  const parsed = schema.safeParse(undefined);
  if (!parsed.success) return { kind: 'other' };
  const value = parsed.data;
  if (value === undefined) return { kind: 'unset' };
  const plain = (item: unknown): item is string | number | boolean =>
    typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean';
  if (plain(value)) return { kind: 'plain', text: String(value) };
  if (Array.isArray(value) && value.every(plain)) return { kind: 'plain', text: value.join(',') };
  return { kind: 'other' };
}

interface Meta {
  readonly description?: unknown;
  readonly defaultText?: unknown;
  readonly details?: unknown;
}

const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.trim() !== '' && !/[\r\n]/.test(value);

/** One setting's documentation, or what is wrong with it. */
function settingDoc(name: string, schema: SettingSchema): { doc: SettingDoc; problems: readonly string[] } {
  const meta = (schema.meta() ?? {}) as Meta;
  const problems: string[] = [];
  const description = isText(meta.description) ? meta.description : '';
  if (description === '')
    problems.push(
      `${name} has no description: give it .meta({ description: '...' }) (one line), as the last call of its schema`,
    );
  if (meta.details !== undefined && !isText(meta.details))
    problems.push(`${name}: its details must be one line of text`);
  if (meta.defaultText !== undefined && !isText(meta.defaultText))
    problems.push(`${name}: its defaultText must be one line of text`);

  const applied = appliedDefault(schema);
  let defaultText = 'unset';
  if (applied.kind === 'plain') {
    defaultText = `\`${applied.text}\``;
    if (meta.defaultText !== undefined)
      problems.push(`${name} applies the default ${applied.text}: it is shown as it is, without a defaultText`);
  } else if (isText(meta.defaultText)) {
    defaultText = meta.defaultText;
  } else if (applied.kind === 'other') {
    problems.push(`${name}: its default is no plain value: say how to show it with .meta({ defaultText: '...' })`);
  }
  const doc = { name, defaultText, description, ...(isText(meta.details) ? { details: meta.details } : {}) };
  return { doc, problems };
}

/** What is wrong with the documentation of a shape's settings: none undocumented, each default shown truly. */
export function settingProblems(shape: SettingsShape): string[] {
  return Object.entries(shape).flatMap(([name, schema]) => settingDoc(name, schema).problems);
}

/**
 * Every setting of a shape, in its order, as the docs and `--help` show it.
 * @throws Error listing every setting documented wrongly (see `settingProblems`).
 */
export function settingDocs(shape: SettingsShape): SettingDoc[] {
  const found = Object.entries(shape).map(([name, schema]) => settingDoc(name, schema));
  const problems = found.flatMap((setting) => setting.problems);
  if (problems.length > 0) throw new Error(`settings documented wrongly:\n${problems.join('\n')}`);
  return found.map((setting) => setting.doc);
}

/** Markdown to plain text, as `--help` prints it: without the backticks. */
export const plainText = (markdown: string): string => markdown.replaceAll('`', '');

/** The settings as `--help` lists them. */
export function helpRows(docs: readonly SettingDoc[]): HelpRow[] {
  return docs.map((doc) => [doc.name, plainText(doc.defaultText), plainText(doc.description)] as const);
}

const cell = (markdown: string) => markdown.replaceAll('|', '\\|');

/** The settings as a markdown table: Name | Default | Meaning (the description, then the details). */
export function settingsTable(docs: readonly SettingDoc[]): string {
  const rows = docs.map((doc) => {
    const meaning = doc.details === undefined ? doc.description : `${doc.description}; ${doc.details}`;
    return `| \`${doc.name}\` | ${cell(doc.defaultText)} | ${cell(meaning)} |`;
  });
  return ['| Name | Default | Meaning |', '|---|---|---|', ...rows].join('\n');
}

/** A string as a TypeScript literal, in single quotes unless it holds one. */
function literal(text: string): string {
  if (!text.includes("'")) return `'${text.replaceAll('\\', '\\\\')}'`;
  return JSON.stringify(text);
}

/** One list of a generated help module. */
export interface HelpList {
  /** The exported constant. */
  readonly name: string;
  /** Its JSDoc. */
  readonly comment: string;
  readonly rows: readonly HelpRow[];
}

/** A generated help module: plain data, its header naming where it comes from and the command that writes it. */
export function helpModule(sources: readonly string[], lists: readonly HelpList[]): string {
  const header = [
    `// Generated by \`${GENERATE_COMMAND}\` from the settings schemas, never edited by hand: the`,
    "// description and default of a setting are its schema's .meta(), in",
    ...sources.map((source) => `// - ${source}`),
    '// Plain data, so that `--help` loads no zod.',
    "import type { SettingHelp } from '@hello-rabbit/runtime/cli';",
  ];
  const body = lists.map((list) =>
    [
      '',
      `/** ${list.comment} */`,
      `export const ${list.name}: readonly SettingHelp[] = [`,
      ...list.rows.map((row) => `  [${row.map(literal).join(', ')}],`),
      '];',
    ].join('\n'),
  );
  return `${[header.join('\n'), ...body].join('\n')}\n`;
}

const beginMarker = (id: string) => `<!-- BEGIN settings:${id}`;
const endMarker = (id: string) => `<!-- END settings:${id} -->`;

/**
 * The page with the section `id` (between its markers) replaced: the begin marker's line,
 * which says where the table comes from, then the table, then the end marker.
 * @throws Error when the page lacks the section's markers.
 */
export function withSection(page: string, id: string, source: string, table: string): string {
  const lines = page.split('\n');
  const begin = lines.findIndex((line) => line.startsWith(`${beginMarker(id)} `) || line === `${beginMarker(id)} -->`);
  const end = lines.findIndex((line, index) => index > begin && line === endMarker(id));
  if (begin === -1 || end === -1) {
    throw new Error(
      `${SETTINGS_PAGE} has no section settings:${id}: put back its markers, ${beginMarker(id)} -->, then ` +
        endMarker(id),
    );
  }
  const section = [`${beginMarker(id)} (generated by ${GENERATE_COMMAND} from ${source}) -->`, table, endMarker(id)];
  return [...lines.slice(0, begin), ...section, ...lines.slice(end + 1)].join('\n');
}

/**
 * The files that differ from what they should be, each with its first differing line and
 * the command that writes them again; empty when all are up to date.
 * @param expected Path (from the repository root) to the text it should hold.
 * @param read The text a path holds, undefined when there is no such file.
 */
export function staleFiles(
  expected: ReadonlyMap<string, string>,
  read: (path: string) => string | undefined,
): string[] {
  const fix = `run \`${GENERATE_COMMAND}\` and commit what it writes`;
  return [...expected].flatMap(([path, want]) => {
    const found = read(path);
    if (found === undefined) return [`${path} is missing: ${fix}`];
    if (found === want) return [];
    const wantLines = want.split('\n');
    const foundLines = found.split('\n');
    const line = wantLines.findIndex((text, index) => foundLines[index] !== text);
    const at = line === -1 ? foundLines.length : line;
    return [
      `${path} differs from what the settings schemas generate (line ${at + 1}: expected ` +
        `${JSON.stringify(wantLines[at] ?? '(end of file)')}, found ` +
        `${JSON.stringify(foundLines[at] ?? '(end of file)')}): ${fix}`,
    ];
  });
}

/** One app, or one mode of an app: its settings shape, its `--help` list and its section of the docs. */
export interface SettingsSource {
  /** Its section of docs/settings.md (`<!-- BEGIN settings:<id> ... -->`). */
  readonly id: string;
  /** The module that exports the shape, from the repository root. */
  readonly module: string;
  /** The shape's exported name. */
  readonly shape: string;
  /** The generated module `--help` imports, from the repository root. */
  readonly helpModule: string;
  /** The list's exported name in it. */
  readonly helpList: string;
  /** The command whose help prints the list. */
  readonly command: string;
}

export const SETTINGS_SOURCES: readonly SettingsSource[] = [
  {
    id: 'consumer',
    module: 'apps/consumer/src/load-env.ts',
    shape: 'consumerEnvShape',
    helpModule: 'apps/consumer/src/settings-help.generated.ts',
    helpList: 'CONSUMER_SETTINGS',
    command: 'consumer --help',
  },
  {
    id: 'producer',
    module: 'apps/producer/src/load-env.ts',
    shape: 'producerEnvShape',
    helpModule: 'apps/producer/src/settings-help.generated.ts',
    helpList: 'PRODUCER_SETTINGS',
    command: 'producer --help',
  },
  {
    id: 'producer-serve',
    module: 'apps/producer/src/serve/settings.ts',
    shape: 'serviceEnvShape',
    helpModule: 'apps/producer/src/settings-help.generated.ts',
    helpList: 'SERVICE_SETTINGS',
    command: 'producer serve --help',
  },
  {
    id: 'ops',
    module: 'apps/ops/src/load-env.ts',
    shape: 'opsEnvShape',
    helpModule: 'apps/ops/src/settings-help.generated.ts',
    helpList: 'OPS_SETTINGS',
    command: 'ops --help',
  },
];

/** Where a source's shape is, for a header: `consumerEnvShape in apps/consumer/src/load-env.ts`. */
const origin = (source: SettingsSource) => `${source.shape} in ${source.module}`;

/**
 * Loads each source's shape from the apps' sources (their imports of the workspace's
 * packages need those built: `pnpm build`).
 */
export async function loadShapes(
  root: string,
  sources: readonly SettingsSource[] = SETTINGS_SOURCES,
): Promise<Map<string, SettingsShape>> {
  const shapes = new Map<string, SettingsShape>();
  for (const source of sources) {
    const exports = (await import(pathToFileURL(join(root, source.module)).href)) as Record<string, unknown>;
    const shape = exports[source.shape];
    if (typeof shape !== 'object' || shape === null) throw new Error(`${source.module} exports no ${source.shape}`);
    shapes.set(source.id, shape as SettingsShape);
  }
  return shapes;
}

/**
 * Every generated file as it should be: each help module, and the settings page with each
 * section's table in place (the rest of the page, written by hand, as it is in `page`).
 */
export function generatedFiles(
  shapes: ReadonlyMap<string, SettingsShape>,
  page: string,
  sources: readonly SettingsSource[] = SETTINGS_SOURCES,
): Map<string, string> {
  const docsOf = (source: SettingsSource) => {
    const shape = shapes.get(source.id);
    if (shape === undefined) throw new Error(`no shape loaded for settings:${source.id}`);
    return settingDocs(shape);
  };
  const files = new Map<string, string>();
  for (const path of new Set(sources.map((source) => source.helpModule))) {
    const inModule = sources.filter((source) => source.helpModule === path);
    const lists = inModule.map((source) => ({
      name: source.helpList,
      comment: `\`${source.command}\`: each setting of ${source.shape}, its default and meaning.`,
      rows: helpRows(docsOf(source)),
    }));
    files.set(path, helpModule(inModule.map(origin), lists));
  }
  files.set(
    SETTINGS_PAGE,
    sources.reduce((text, source) => withSection(text, source.id, origin(source), settingsTable(docsOf(source))), page),
  );
  return files;
}

/**
 * The generated files as the repository's formatter (Prettier, with its configuration)
 * writes them, so that `pnpm format` leaves them as they are.
 */
export async function formatted(files: ReadonlyMap<string, string>, root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [path, text] of files) {
    const filepath = join(root, path);
    const options = (await prettier.resolveConfig(filepath)) ?? {};
    out.set(path, await prettier.format(text, { ...options, filepath }));
  }
  return out;
}

/** The text of a file of the repository, undefined when there is none. */
export function readRepoFile(root: string, path: string): string | undefined {
  try {
    return readFileSync(join(root, path), 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
}

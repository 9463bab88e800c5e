/**
 * Summarizes a V8 CPU profile written by `pnpm bench --profile`: the functions with the
 * most self time, and the packages they belong to. Usage: tsx src/profile-top.ts <file or
 * run folder> [n]; given a folder, it reads the largest profile in it (the main thread's).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly hitCount?: number;
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** `node_modules/.pnpm/<pkg>@<v>/node_modules/<pkg>/…` → `<pkg>`; the workspace's own files by folder. */
function owner(url: string): string {
  if (url === '') return '(native / V8)';
  const modules = url.split('node_modules/');
  const last = modules[modules.length - 1] ?? url;
  if (modules.length > 1) {
    const parts = last.split('/');
    return parts[0]?.startsWith('@') === true ? `${parts[0]}/${parts[1] ?? ''}` : (parts[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (core)';
  const workspace = /\/(packages|apps|tools)\/([^/]+)\//.exec(url);
  return workspace === null ? url : `${workspace[1] ?? ''}/${workspace[2] ?? ''}`;
}

function table(title: string, rows: readonly [string, number][], total: number, limit: number): string {
  const lines = [title];
  for (const [name, micros] of rows.slice(0, limit)) {
    lines.push(
      `${((micros / total) * 100).toFixed(1).padStart(6)} %  ${(micros / 1000).toFixed(0).padStart(7)} ms  ${name}`,
    );
  }
  return lines.join('\n');
}

/** The file itself, or the largest .cpuprofile in the folder. */
function mainProfile(path: string): string {
  if (!statSync(path).isDirectory()) return path;
  const files = readdirSync(path)
    .filter((name) => name.endsWith('.cpuprofile'))
    .map((name) => join(path, name))
    .sort((a, b) => statSync(b).size - statSync(a).size);
  const [largest] = files;
  if (largest === undefined) throw new Error(`no .cpuprofile in ${path}`);
  return largest;
}

const [given, limitText] = process.argv.slice(2);
if (given === undefined) {
  process.stderr.write('usage: tsx src/profile-top.ts <file.cpuprofile | run folder> [how many]\n');
  process.exit(64);
}
const file = mainProfile(given);
const limit = Number(limitText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfMicros = new Map<number, number>();
const samples = profile.samples ?? [];
const deltas = profile.timeDeltas ?? [];
samples.forEach((id, index) => {
  selfMicros.set(id, (selfMicros.get(id) ?? 0) + (deltas[index] ?? 0));
});

const byFunction = new Map<string, number>();
const byOwner = new Map<string, number>();
let total = 0;
for (const [id, micros] of selfMicros) {
  const node = byId.get(id);
  if (node === undefined) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  if (functionName === '(idle)' || functionName === '(program)') continue;
  total += micros;
  const name =
    `${functionName === '' ? '(anonymous)' : functionName}  ` +
    `${owner(url)}${url === '' ? '' : `:${String(lineNumber + 1)}`}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  byOwner.set(owner(url), (byOwner.get(owner(url)) ?? 0) + micros);
}
const sorted = (map: Map<string, number>) => [...map.entries()].sort((a, b) => b[1] - a[1]);
process.stdout.write(`${file}: ${(total / 1000).toFixed(0)} ms of CPU sampled (idle excluded)\n\n`);
process.stdout.write(`${table('self time by package', sorted(byOwner), total, limit)}\n\n`);
process.stdout.write(`${table('self time by function', sorted(byFunction), total, limit)}\n`);

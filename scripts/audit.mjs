#!/usr/bin/env node
// The dependency audit of CI:  node scripts/audit.mjs [--strict]
//
// Runs `pnpm audit --audit-level high --json` (the registry's bulk advisory endpoint) and
// fails (exit 1) when it reports a known high or critical advisory for any installed
// dependency. When the endpoint cannot be used (no network, a proxy that refuses the POST,
// a 4xx/5xx answer, no answer in time), it prints a warning saying that nothing was
// checked and exits 0, so that CI on a machine without the endpoint does not fail for it;
// `--strict` (or AUDIT_STRICT=1) makes that a failure too. Anything else going wrong with
// pnpm audit is a failure.

import { spawn } from 'node:child_process';
import path from 'node:path';
import { clearTimeout } from 'node:timers';
import { fileURLToPath } from 'node:url';

const SERIOUS = ['critical', 'high'];

/** pnpm's and the network's ways of saying the advisory endpoint could not be used. */
const UNREACHABLE = new RegExp(
  /ERR_PNPM_AUDIT_BAD_RESPONSE|ERR_PNPM_AUDIT_ENDPOINT|ERR_PNPM_FETCH|ERR_PNPM_META_FETCH|/.source +
    /ERR_SOCKET|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|/.source +
    /socket hang up|fetch failed|network|responded with [45]\d\d/.source,
  'i',
);

/** The JSON report in pnpm's output, or undefined. */
function parseReport(stdout) {
  const start = stdout.indexOf('{');
  if (start < 0) return undefined;
  try {
    const report = JSON.parse(stdout.slice(start));
    return typeof report === 'object' && report !== null && typeof report.metadata?.vulnerabilities === 'object'
      ? report
      : undefined;
  } catch {
    return undefined;
  }
}

/** pnpm's error output as one line: its box drawing gone, a URL it wrapped joined again. */
function oneLine(text) {
  return text
    .split('\n')
    .map((line) =>
      line
        .replace(/^[\s×│]+/, '')
        .replace(/^Error:\s*/, '')
        .trim(),
    )
    .filter((line) => line !== '')
    .reduce(
      (joined, line) => (joined === '' ? line : joined.endsWith('/') ? `${joined}${line}` : `${joined} ${line}`),
      '',
    )
    .replace(/:$/, '');
}

const firstLine = (text) =>
  oneLine(
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(0, 1)
      .join('\n'),
  );

/**
 * What a run of `pnpm audit --json` means for CI.
 * @param {{ code: number | null, stdout: string, stderr: string, timedOut?: boolean, timeoutMs?: number }} run
 * @param {{ strict?: boolean, github?: boolean }} options
 * @returns {{ exitCode: number, lines: string[] }}
 */
export function judge(run, options = {}) {
  const report = parseReport(run.stdout);
  if (report !== undefined && !run.timedOut) {
    const counts = report.metadata.vulnerabilities;
    const serious = SERIOUS.reduce((sum, level) => sum + (Number(counts[level]) || 0), 0);
    const total = report.metadata.totalDependencies ?? report.metadata.dependencies ?? '?';
    if (serious === 0) {
      return {
        exitCode: 0,
        lines: [`audit: no known high or critical advisory for the ${total} dependencies (pnpm audit)`],
      };
    }
    const advisories = Object.values(report.advisories ?? {}).filter((a) => SERIOUS.includes(a.severity));
    return {
      exitCode: 1,
      lines: [
        `audit: ${serious} known high or critical ${serious === 1 ? 'advisory' : 'advisories'} (pnpm audit):`,
        ...advisories.map((a) => {
          const fields = [a.severity, a.module_name, `${a.vulnerable_versions ?? ''}:`, a.title, a.url];
          return `  ${fields.filter(Boolean).join(' ')}`;
        }),
        '  upgrade them (pnpm update <name>, or an override in pnpm-workspace.yaml), then run this again',
      ],
    };
  }
  const output = `${run.stderr}\n${run.stdout}`;
  if (run.timedOut || UNREACHABLE.test(output)) {
    const why = run.timedOut
      ? `no answer within ${Math.round((run.timeoutMs ?? 0) / 1000)} s`
      : oneLine(output).slice(0, 300);
    const warning =
      `the advisory endpoint could not be used (${why}): ` + 'the dependencies were NOT checked for known advisories';
    if (options.strict) return { exitCode: 1, lines: [`audit: ${warning} (--strict)`] };
    return {
      exitCode: 0,
      lines: [options.github ? `::warning title=dependency audit::${warning}` : `audit: WARNING: ${warning}`],
    };
  }
  return { exitCode: 1, lines: [`audit: pnpm audit failed (exit ${run.code}): ${firstLine(output) || 'no output'}`] };
}

/** Runs `pnpm audit` and collects its output; kills it after `timeoutMs`. */
export function runAudit(timeoutMs, cwd) {
  return new Promise((resolve, reject) => {
    const child = spawn('pnpm', ['audit', '--audit-level', 'high', '--json'], {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut, timeoutMs });
    });
  });
}

async function main(argv) {
  const strict = argv.includes('--strict') || process.env.AUDIT_STRICT === '1';
  const timeoutMs = Number(process.env.AUDIT_TIMEOUT_MS) || 120_000;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  let run;
  try {
    run = await runAudit(timeoutMs, root);
  } catch (err) {
    console.error(`audit: cannot run pnpm audit: ${err.message}`);
    return 1;
  }
  const { exitCode, lines } = judge(run, { strict, github: process.env.GITHUB_ACTIONS === 'true' });
  for (const line of lines) (exitCode === 0 ? console.log : console.error)(line);
  return exitCode;
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}

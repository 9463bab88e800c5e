import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** How the producer says a message settled (its `--report` line's `status`). */
export type ProducerStatus = 'confirmed' | 'returned' | 'nacked' | 'failed' | 'unsent';

/** One scenario's figures, as the suite's table shows them. */
export interface Classification {
  readonly scenario: string;
  /** Messages the client was asked to send. */
  readonly sent: number;
  /** Of those, confirmed by the broker. */
  readonly confirmed: number;
  /** Sent but not confirmed (failed, unsent, returned, nacked, or no outcome at all). */
  readonly inDoubt: number;
  /** Distinct messages a worker received. */
  readonly delivered: number;
  /** Distinct messages found in the dead-letter queue. */
  readonly deadLettered: number;
  /** Confirmed, but neither delivered nor dead-lettered. */
  readonly lost: readonly string[];
  /** Delivered to a worker more than once. */
  readonly duplicated: readonly string[];
  /** Not confirmed, yet delivered or dead-lettered (the broker had it after all). */
  readonly recovered: readonly string[];
  /** Delivered or dead-lettered, but never sent. */
  readonly unexpected: readonly string[];
}

/**
 * What a scenario with a dedup store adds to its books (the shared-dedup scenario): tasks
 * done twice, and duplicates the store caught.
 */
export interface DedupFigures {
  /** Tasks whose handler finished (` [x] Done`) more than once, over every worker. */
  readonly doneTwice: number;
  /**
   * Of those, the ones done twice only because a worker killed -9 had finished them and had
   * not yet marked them done (the counted window); the others are done twice outside it.
   */
  readonly inWindow: number;
  /** Deliveries the store found done and acked unhandled (`duplicate suppressed` log lines). */
  readonly suppressed: number;
}

/** A row of the suite's table: a classification, how long the run took, and what it showed. */
export interface Row {
  readonly books: Omit<Classification, 'lost' | 'duplicated' | 'recovered' | 'unexpected'> & {
    readonly lost: number;
    readonly duplicated: number;
    readonly recovered: number;
    readonly unexpected: number;
  };
  readonly seconds: number;
  readonly notes: string;
  /** False when the scenario failed before its end: its "lost" is then unknown, not counted. */
  readonly finished: boolean;
  /** A dedup scenario's figures (its own columns); absent for the others. */
  readonly dedup?: DedupFigures | undefined;
  /**
   * Seconds from the fault until the work went on (the partition suite's figure, its own
   * column): the end of the longest stall of confirms or deliveries after the fault.
   */
  readonly recovery?: number | undefined;
}

/**
 * Jepsen-style books for one scenario: every message has a unique id; the client's outcome
 * per message and every delivery are recorded, then the run is classified.
 */
export class Books {
  private readonly intended = new Set<string>();
  private readonly outcomes = new Map<string, ProducerStatus>();
  private readonly deliveries = new Map<string, number>();
  private readonly deadLetters = new Set<string>();

  constructor(readonly scenario: string) {}

  /** The client was asked to send `id`. */
  send(id: string): void {
    this.intended.add(id);
  }

  /** The client's outcome for `id`; a later `confirmed` wins over an earlier failure. */
  settle(id: string, status: ProducerStatus): void {
    if (this.outcomes.get(id) !== 'confirmed') this.outcomes.set(id, status);
  }

  /** A worker received (started to handle) `id`. */
  deliver(id: string): void {
    this.deliveries.set(id, (this.deliveries.get(id) ?? 0) + 1);
  }

  /** `id` was found in the dead-letter queue. */
  deadLetter(id: string): void {
    this.deadLetters.add(id);
  }

  /** How many times `id` was delivered to a worker. */
  deliveriesOf(id: string): number {
    return this.deliveries.get(id) ?? 0;
  }

  outcomeOf(id: string): ProducerStatus | undefined {
    return this.outcomes.get(id);
  }

  get sentIds(): readonly string[] {
    return [...this.intended];
  }

  classify(): Classification {
    const ended = new Set([...this.deliveries.keys(), ...this.deadLetters]);
    const confirmed = [...this.intended].filter((id) => this.outcomes.get(id) === 'confirmed');
    const notConfirmed = [...this.intended].filter((id) => this.outcomes.get(id) !== 'confirmed');
    return {
      scenario: this.scenario,
      sent: this.intended.size,
      confirmed: confirmed.length,
      inDoubt: notConfirmed.length,
      delivered: this.deliveries.size,
      deadLettered: this.deadLetters.size,
      lost: confirmed.filter((id) => !ended.has(id)),
      duplicated: [...this.deliveries].filter(([, count]) => count > 1).map(([id]) => id),
      recovered: notConfirmed.filter((id) => ended.has(id)),
      unexpected: [...ended].filter((id) => !this.intended.has(id)),
    };
  }
}

/** The row of the table for a classification. */
export function toRow(
  books: Classification,
  seconds: number,
  notes: string,
  finished = true,
  dedup?: DedupFigures,
  recovery?: number,
): Row {
  return {
    dedup,
    recovery,
    books: {
      ...books,
      lost: books.lost.length,
      duplicated: books.duplicated.length,
      recovered: books.recovered.length,
      unexpected: books.unexpected.length,
    },
    seconds,
    notes,
    finished,
  };
}

/** Rows are kept in a file, one JSON line each: the test files run in separate workers. */
export function appendRow(file: string, row: Row): void {
  appendFileSync(file, `${JSON.stringify(row)}\n`);
}

export function readRows(file: string): Row[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Row);
}

interface Column {
  readonly title: string;
  readonly value: (row: Row) => string;
  readonly left?: boolean;
}

/** A dedup figure, or '-' on a row without a dedup store. */
const dedupCell = (row: Row, figure: keyof DedupFigures) => (row.dedup === undefined ? '-' : String(row.dedup[figure]));

/** The dedup columns: only in a table with a dedup scenario's row. */
const DEDUP_COLUMNS: readonly Column[] = [
  { title: 'done twice', value: (r) => dedupCell(r, 'doneTwice') },
  { title: 'in the window', value: (r) => dedupCell(r, 'inWindow') },
  { title: 'suppressed', value: (r) => dedupCell(r, 'suppressed') },
];

/** The time to recover: only in a table with a row that has it (the partition suite's). */
const RECOVERY_COLUMN: Column = {
  title: 'to recover',
  value: (r) => (r.recovery === undefined ? '-' : `${r.recovery.toFixed(1)} s`),
};

const COLUMNS: readonly Column[] = [
  { title: 'scenario', value: (r) => r.books.scenario, left: true },
  { title: 'sent', value: (r) => String(r.books.sent) },
  { title: 'confirmed', value: (r) => String(r.books.confirmed) },
  { title: 'in doubt', value: (r) => String(r.books.inDoubt) },
  { title: 'delivered', value: (r) => String(r.books.delivered) },
  { title: 'dead-lettered', value: (r) => String(r.books.deadLettered) },
  { title: 'lost', value: (r) => (r.finished ? String(r.books.lost) : '?') },
  { title: 'duplicated', value: (r) => String(r.books.duplicated) },
  { title: 'recovered', value: (r) => String(r.books.recovered) },
  { title: 'unexpected', value: (r) => String(r.books.unexpected) },
  { title: 'time', value: (r) => `${r.seconds.toFixed(0)} s` },
  { title: 'what it showed', value: (r) => r.notes, left: true },
];

/**
 * The suite's table, as aligned text (a Markdown table), with a legend.
 * @param title names the suite above the table. @default 'Fault suite'
 */
export function renderTable(rows: readonly Row[], title = 'Fault suite'): string {
  const withDedup = rows.some((row) => row.dedup !== undefined);
  // The dedup columns go before the time, only when a row has them.
  const withRecovery = rows.some((row) => row.recovery !== undefined);
  const columns = [
    ...COLUMNS.slice(0, -2),
    ...(withDedup ? DEDUP_COLUMNS : []),
    ...(withRecovery ? [RECOVERY_COLUMN] : []),
    ...COLUMNS.slice(-2),
  ];
  const cells = rows.map((row) => columns.map((column) => column.value(row)));
  const widths = columns.map((column, i) =>
    Math.max(column.title.length, ...cells.map((line) => line[i]?.length ?? 0)),
  );
  const pad = (text: string, i: number) => {
    const width = widths[i] ?? 0;
    return columns[i]?.left === true ? text.padEnd(width) : text.padStart(width);
  };
  const line = (texts: readonly string[]) => `| ${texts.map(pad).join(' | ')} |`;
  const dashes = widths.map((w, i) => (columns[i]?.left === true ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`));
  const rule = `|${dashes.join('|')}|`;
  const lostTotal = rows.reduce((sum, row) => sum + (row.finished ? row.books.lost : 0), 0);
  const unfinished = rows.filter((row) => !row.finished).length;
  return [
    '',
    `${title}: the books (${rows.length} scenarios, ${lostTotal} lost` +
      `${unfinished > 0 ? `, ${unfinished} did not finish` : ''})`,
    '',
    line(columns.map((c) => c.title)),
    rule,
    ...cells.map(line),
    '',
    'sent: messages a client was asked to send; confirmed: of those, confirmed by the broker; in doubt: not confirmed;',
    'delivered: distinct messages a worker received; dead-lettered: distinct messages found in task_queue.dlq;',
    'lost: confirmed but neither delivered nor dead-lettered (must be 0); duplicated: delivered more than once',
    '(at-least-once allows it); recovered: not confirmed yet delivered; unexpected: delivered but never sent.',
    ...(withDedup
      ? [
          "done twice: tasks whose handler finished (' [x] Done') more than once, over every worker; " +
            'in the window: of those,',
          'the ones a worker killed -9 had finished and not yet marked done (the store cannot catch them); suppressed:',
          'deliveries the dedup store found done and acked without running the handler ' +
            "('duplicate suppressed' log lines).",
        ]
      : []),
    ...(withRecovery
      ? [
          'to recover: from the fault until confirms and deliveries both went on again (the end of the longest ' +
            'stall of either after it).',
        ]
      : []),
    '',
  ].join('\n');
}

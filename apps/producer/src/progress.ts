import cliProgress from 'cli-progress';

/** Shows how a long run is going, on a terminal only. */
export interface Progress {
  settled(confirmed: boolean): void;
  stop(): void;
}

const quiet: Progress = { settled: () => undefined, stop: () => undefined };

/**
 * A progress bar with the rate, on stderr, for runs of `total` messages, when stderr is a
 * terminal; nothing at all otherwise (logs, pipes, CI).
 */
export function createProgress(total: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY || total < 2) return quiet;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        ' {bar} {percentage}% | {value}/{total} settled | {rate} msg/s | {failed} not confirmed | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const started = Date.now();
  let done = 0;
  let failed = 0;
  bar.start(total, 0, { rate: 0, failed: 0 });
  return {
    settled(confirmed) {
      done++;
      if (!confirmed) failed++;
      const seconds = (Date.now() - started) / 1000;
      bar.update(done, { rate: seconds > 0 ? Math.round(done / seconds) : 0, failed });
    },
    stop() {
      bar.stop();
    },
  };
}

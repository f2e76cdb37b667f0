import cliProgress from 'cli-progress';
import type { ProgressReporter } from '../ingest/ingest-catalog';

/**
 * Progress bars with counts and ETA on a terminal; on a pipe or in CI, a plain line every few
 * seconds instead, so logs stay readable.
 */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  return {
    start(step, total) {
      const bar = new cliProgress.SingleBar(
        {
          stream,
          format: `${step.padEnd(12)} [{bar}] {percentage}% | {value}/{total} | {duration_formatted} elapsed, ETA {eta_formatted}`,
          noTTYOutput: !stream.isTTY,
          notTTYSchedule: 5000,
          etaBuffer: 200,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(total, 0);
      return {
        update: (done: number) => bar.update(done),
        stop: () => bar.stop(),
      };
    },
    log(message) {
      stream.write(`${message}\n`);
    },
  };
}

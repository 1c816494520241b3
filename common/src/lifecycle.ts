/**
 * Runs a long-lived service until SIGTERM/SIGINT, then drains it and exits 0 (a second signal exits
 * at once). For the commands' entry points only: it owns the process's signal handling.
 */
import type { Logger } from 'pino';

export async function runUntilSignalled(logger: Logger, stop: () => Promise<void>): Promise<void> {
  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without draining');
        process.exit(1);
      }
      stopping = true;
      logger.info({ signal }, 'shutting down');
      stop().then(resolve, (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exitCode = 1;
        resolve();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

import { createLogger, ExitCode, onStopSignal } from '@hello-rabbit/runtime';
import { startService } from './service.js';
import { loadServiceEnv } from './settings.js';

/**
 * `producer serve`: runs the HTTP service until SIGTERM or SIGINT, then stops cleanly.
 * Resolves with the exit code.
 */
export async function serve(env: NodeJS.ProcessEnv, out: (line: string) => void): Promise<number> {
  const settings = loadServiceEnv(env);
  const secrets = [
    settings.AMQP_URL.password,
    ...(settings.DEDUP_REDIS_URL === undefined ? [] : [settings.DEDUP_REDIS_URL.password]),
  ];
  const logger = createLogger({ name: 'producer', level: settings.LOG_LEVEL, secrets });
  const service = await startService(settings, logger);
  out(` [*] Listening on ${service.url}. To exit press CTRL+C`);

  return new Promise<number>((resolve) => {
    onStopSignal(logger, (signal) => {
      logger.info({ signal }, 'stopping');
      // SIGTERM comes from an orchestrator: wait for load balancers to see the readiness
      // drop before refusing messages. CTRL+C comes from a person: no need.
      service.stop(signal === 'SIGTERM' ? settings.SHUTDOWN_DELAY_MS : 0).then(
        () => {
          resolve(ExitCode.ok);
        },
        (err: unknown) => {
          logger.error({ err }, 'could not stop cleanly');
          resolve(ExitCode.software);
        },
      );
    });
  });
}

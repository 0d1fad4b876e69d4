import { loadSimulatorConfig } from '../config';
import { createLogger } from '../logging/logger';
import { startSimulator } from './index';

/** `npm run simulator`: the simulator as a standalone process, configured from SIMULATOR_* variables. */

const logger = createLogger({ level: 'info' }).child({ name: 'iometer-simulator' });

async function main(): Promise<void> {
  const config = loadSimulatorConfig();
  const simulator = await startSimulator(config);
  logger.info(
    {
      url: simulator.url,
      wsUrl: simulator.wsUrl,
      provider: simulator.provider,
      seed: config.seed,
      installations: config.installations,
      readingIntervalMs: config.readingIntervalMs,
      duplicateRate: config.duplicateRate,
    },
    'IOmeter simulator listening',
  );
  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'IOmeter simulator shutting down');
    simulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'IOmeter simulator did not shut down cleanly');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  logger.fatal({ err: error }, 'IOmeter simulator failed to start');
  process.exit(1);
});

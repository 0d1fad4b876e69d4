import { ConfigError, loadGatewayConfig } from './config';
import { createLogger } from './logging/logger';
import { startTracing } from './tracing';

/** Time allowed after the request drain for subscriptions, pools and connections to close. */
const SHUTDOWN_CLEANUP_MS = 5_000;

async function main(): Promise<void> {
  let config = loadGatewayConfig();
  const tracing = config.tracing ? startTracing(config.tracing) : undefined;
  // Imported only now, so that tracing's instrumentations see pg and node:http being loaded
  // (a dynamic import needs the .js suffix under node16 resolution; tsx maps it to the .ts file).
  const [{ openDatabase }, { CustomerStore }, { sandboxAuth, startSandbox }, { startGateway }] = await Promise.all([
    import('./database/index.js'),
    import('./customers/store.js'),
    import('./sandbox.js'),
    import('./server.js'),
  ]);
  const sandboxMode = config.sandbox !== undefined;
  const logger = createLogger({ level: config.logLevel, pretty: sandboxMode && process.stdout.isTTY });
  const database = await openDatabase(config.database, {
    onError: (error) => logger.error({ err: error }, 'database connection error'),
  });
  logger.info({ database: database.kind }, 'customer database ready');
  const sandbox = config.sandbox
    ? await startSandbox(config.sandbox, new CustomerStore(database), logger, config.archive.enabled ? { db: database, ...config.archive } : undefined)
    : undefined;
  const demo = sandbox ? await sandboxAuth(config.auth, config.database) : undefined;
  if (demo) config = { ...config, auth: demo.auth };
  const upstream = config.upstream ?? sandbox!.upstream;
  const gateway = await startGateway({ config: { ...config, upstream }, logger, database });
  logger.info({ url: gateway.url, sandbox: sandboxMode }, `IOmeter Gateway ready: GraphiQL at ${gateway.url}`);
  if (demo) {
    logger.info('Sandbox: anonymous requests act as staff; the demo tokens for GraphiQL follow on stderr');
    // For a person to copy, so plain lines rather than escapes inside a JSON log line.
    process.stderr.write(
      [
        '',
        "Sandbox demo tokens: paste one into GraphiQL's Headers tab as",
        '  {"Authorization": "Bearer <token>"}',
        `  staff:    ${demo.demoTokens.staff}`,
        `  customer: ${demo.demoTokens.customer}  (C-1001)`,
        '',
      ].join('\n') + '\n',
    );
  }

  const shutdown = async (signal: string) => {
    logger.info({ signal, shutdownTimeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // A close step that hangs must not keep the process from ever exiting.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + SHUTDOWN_CLEANUP_MS).unref();
    await gateway.close();
    await sandbox?.simulator.close();
    await database.close();
    await tracing?.shutdown();
    logger.info('shut down cleanly');
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  // Config errors are for humans reading a terminal: print the message, not a stack.
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`IOmeter Gateway failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  }
  process.exit(1);
});

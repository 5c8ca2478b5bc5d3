/**
 * Running the server as a program (the `swapless-server` bin and `swapless serve`): command-line flags, the
 * config, the startup banner on stdout, and the process's signals — SIGINT/SIGTERM stop gracefully (exit 0 once
 * drained), a second signal or the shutdown timeout forces exit 1.
 */
import { parseServeArgs, SERVE_HELP } from './args.js';
import { formatBanner } from './banner.js';
import { loadConfig } from './config.js';
import { bannerDemoLoad } from './demo-load.js';
import { flushLogger } from './logger.js';
import { describeTenants, type RunningServer, startServer } from './server.js';

/** Where {@link serve} writes: the banner (stdout) and warnings (stderr). */
export interface ServeIo {
  out(text: string): void;
  err(text: string): void;
}

/** Options of {@link serve}. */
export interface ServeOptions {
  io?: ServeIo;
  env?: Readonly<Record<string, string | undefined>>;
  /** Install SIGINT/SIGTERM handlers (default true). Without them, stop the server with the `started` handle. */
  signals?: boolean;
  /** Called once the server is ready (tests, embedding). */
  started?: (server: RunningServer) => void;
}

const processIo: ServeIo = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
};

/**
 * Runs the server until it is stopped: loads the config (file, environment, flags), starts it, prints the banner
 * (or with `--json` one JSON line), and on SIGINT/SIGTERM closes it gracefully. Resolves to the exit status: 0 after
 * a clean shutdown. Throws UsageError for bad flags, InvalidConfigError / SwapLessIoError for a bad config, and
 * whatever prevents the start (e.g. the port in use).
 */
export async function serve(argv: readonly string[], options: ServeOptions = {}): Promise<number> {
  const io = options.io ?? processIo;
  const args = parseServeArgs(argv);
  if (args.help) {
    io.out(SERVE_HELP);
    return 0;
  }
  const { config, warnings, source } = await loadConfig(
    args.configPath,
    options.env ?? process.env,
    args.overrides,
  );
  for (const w of warnings) io.err(`swapless serve: warning: ${w}`);
  // Signals are handled from before the start: a SIGTERM while tenants are being profiled stops the server
  // gracefully as soon as it is up, and no signal can slip in between the banner and the handlers.
  let server: RunningServer | null = null;
  let signals = 0;
  let timer: NodeJS.Timeout | null = null;
  let requestStop: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    requestStop = resolve;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    const logger = server?.logger;
    if (signals > 1) {
      logger?.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      if (logger) flushLogger(logger);
      io.err(`swapless serve: ${signal} again, exiting now`);
      process.exit(1);
    }
    logger?.info({ signal }, 'signal received: shutting down gracefully');
    io.err(
      `swapless serve: ${signal} received, ${server ? 'draining in-flight requests' : 'stopping once started'} (send it again to exit at once)`,
    );
    if (config.shutdownTimeoutMs > 0) {
      timer = setTimeout(() => {
        server?.logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out: exiting');
        if (server) flushLogger(server.logger);
        io.err(`swapless serve: shutdown took longer than ${config.shutdownTimeoutMs} ms, exiting`);
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
    }
    requestStop();
  };
  const onUnhandled = (reason: unknown) => {
    // A bug somewhere must not take every tenant down with it: log it and keep serving.
    if (server) server.logger.error({ err: reason }, 'unhandled promise rejection');
    else io.err(`swapless serve: unhandled promise rejection: ${String(reason)}`);
  };
  const useSignals = options.signals !== false;
  if (useSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('unhandledRejection', onUnhandled);
  }
  try {
    const running = await startServer(config);
    server = running;
    if (signals === 0) {
      const info = {
        urls: running.urls,
        device: typeof config.device === 'string' ? config.device : 'edgetpu',
        backend: running.service.controller().backend,
        policy: config.policy,
        latencyModel: running.service.controller().latencyModelDetails.label,
        cores: running.service.cores,
        configSource: source,
        repository: config.repository,
        tenants: describeTenants(running),
        failed: running.failed,
        warnings: running.service.warnings,
        skipped: running.scan.skipped,
        curl: running.curl,
        startupMs: running.startupMs,
        access: running.access,
        demoLoad: bannerDemoLoad(running.demoLoad),
      };
      io.out(args.json ? JSON.stringify({ ...info, examples: running.examples }) : formatBanner(info));
      options.started?.(running);
    }
    // Run until a signal (or, without signal handling, until the caller closes the server).
    await (useSignals
      ? stopRequested
      : new Promise<void>((resolve) => running.app.server.once('close', () => resolve())));
    try {
      await running.close();
      return 0;
    } catch (error) {
      running.logger.error({ err: error }, 'shutdown failed');
      return 1;
    }
  } finally {
    if (timer) clearTimeout(timer);
    if (useSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.off('unhandledRejection', onUnhandled);
    }
  }
}

/**
 * The gateway's own entry point, for the bundled build (`npm run build:edge` → dist/pledgewatch-edge.mjs):
 * the edge agent without the central side's code, for a small Linux box. `pledgewatch edge` does the same.
 *   pledgewatch-edge --config FILE [--log-level LEVEL]
 *   pledgewatch-edge check-config FILE
 */
import { runUntilSignalled } from '@pledgewatch/common/lifecycle';
import { isPwError } from '@pledgewatch/common';
import pino from 'pino';
import { createEdgeAgent } from './agent.ts';
import { loadEdgeConfig } from './config.ts';

const USAGE = 'usage: pledgewatch-edge --config FILE [--log-level LEVEL] | pledgewatch-edge check-config FILE\n';

async function main(args: string[]): Promise<void> {
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  if (args[0] === 'check-config' && args[1] !== undefined) {
    const config = loadEdgeConfig(args[1]);
    process.stdout.write(`${args[1]}: OK (gateway ${config.gatewayId}, ${config.readers.length} reader(s))\n`);
    return;
  }
  const path = flag('--config') ?? flag('-c');
  if (path === undefined || args.includes('--help')) {
    process.stderr.write(USAGE);
    process.exitCode = args.includes('--help') ? 0 : 2;
    return;
  }
  const config = loadEdgeConfig(path);
  const logger = pino({ level: flag('--log-level') ?? process.env.PW_LOG_LEVEL ?? 'info', base: { app: 'pledgewatch' } });
  const agent = createEdgeAgent({ config, logger });
  await agent.start();
  logger.info({ gatewayId: config.gatewayId }, 'edge agent running');
  await runUntilSignalled(logger, () => agent.stop());
}

try {
  await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`pledgewatch-edge: ${isPwError(err) || err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}

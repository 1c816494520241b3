import type { Command } from 'commander';
import { createEdgeAgent, loadEdgeConfig } from '@pledgewatch/edge-agent';
import { makeLogger } from '../logger.ts';
import { runUntilSignalled } from '@pledgewatch/common/lifecycle';

export function registerEdgeCommands(program: Command): void {
  const edge = program
    .command('edge')
    .description('run an edge agent on a warehouse gateway')
    .option('-c, --config <file>', 'edge agent configuration (JSON); see edge-agent/examples/edge.example.json')
    .option('--log-level <level>', 'fatal, error, warn, info, debug or trace (env PW_LOG_LEVEL)')
    .action(async (opts: { config?: string; logLevel?: string }, cmd: Command) => {
      // Not a required option: commander would then demand it of `edge check-config` too.
      if (opts.config === undefined) cmd.error("error: required option '-c, --config <file>' not specified");
      const config = loadEdgeConfig(opts.config);
      const logger = makeLogger(opts.logLevel ?? process.env.PW_LOG_LEVEL ?? 'info');
      const agent = createEdgeAgent({ config, logger });
      await agent.start();
      logger.info({ gatewayId: config.gatewayId, uplink: config.uplink.url }, 'edge agent running');
      await runUntilSignalled(logger, () => agent.stop());
    });
  edge
    .command('check-config <file>')
    .description('check an edge configuration file and name every wrong key')
    .action((file: string) => {
      const config = loadEdgeConfig(file);
      const local = config.localBroker === undefined ? 'no local broker' : `local broker ${config.localBroker.host}:${config.localBroker.port} for ${config.localBroker.devices.length} device(s)`;
      const metrics = config.metrics === undefined ? 'no metrics endpoint' : `metrics on http://${config.metrics.host}:${config.metrics.port}/metrics`;
      process.stdout.write(`${file}: OK (gateway ${config.gatewayId}, ${config.readers.length} reader(s), ${local}, ${metrics})\n`);
    });
}

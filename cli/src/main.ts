/** `pledgewatch`: one command with subcommands, for operators and warehouse technicians alike. */
import { Command, CommanderError } from 'commander';
import { isPwError } from '@pledgewatch/common';
import { ConfigError } from './config.ts';
import { registerCentralCommands } from './commands/central.ts';
import { registerBrokerCommands } from './commands/broker.ts';
import { registerEdgeCommands } from './commands/edge.ts';
import { registerEvidenceCommands } from './commands/evidence.ts';
import { registerSimulateCommands } from './commands/simulate.ts';

const program = new Command('pledgewatch')
  .description('PledgeWatch: collateral monitoring for goods pledged in warehouses')
  .showHelpAfterError()
  .exitOverride();

registerCentralCommands(program);
registerBrokerCommands(program);
registerEdgeCommands(program);
registerEvidenceCommands(program);
registerSimulateCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else if (err instanceof ConfigError || isPwError(err)) {
    process.stderr.write(`pledgewatch: ${err.message}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`pledgewatch: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}

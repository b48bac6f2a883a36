#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isOnsetError } from '../errors.js';
import { registerDataCommands } from './data.js';
import { registerExplainCommand } from './explain.js';
import { registerModelCommands } from './model.js';
import { registerModelsCommands } from './models.js';
import { registerPipelineCommands } from './pipeline.js';
import { registerPredictCommands } from './predict.js';
import { registerRunsCommands } from './runs.js';
import { registerSendCommand } from './send.js';
import { registerTrainCommand } from './train.js';
import { registerUpCommand } from './up.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

export function buildProgram(): Command {
  const program = new Command('onset')
    .description("Onset: an MLOps platform for the early prediction of Parkinson's disease")
    .version(packageJson.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDataCommands(program);
  registerTrainCommand(program);
  registerPredictCommands(program);
  registerModelCommands(program);
  registerExplainCommand(program);
  registerRunsCommands(program);
  registerModelsCommands(program);
  registerPipelineCommands(program);
  registerUpCommand(program);
  registerSendCommand(program);
  return program;
}

/** Runs the CLI: usage errors exit 2, failures exit 1 with a one-line message on stderr. */
export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version "errors" are successful exits; commander already printed the usage message.
      process.exitCode = error.exitCode === 0 ? 0 : 2;
      return;
    }
    if (isOnsetError(error)) {
      process.stderr.write(`onset: ${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    process.stderr.write(
      `onset: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}

// A reader that stops early (`onset ... | head`) closes the pipe: that ends the output, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

await main(process.argv);

#!/usr/bin/env -S node --max-semi-space-size=8
// The semi-spaces' cap is the serving workers' (`SERVING_SEMI_SPACE`), for the process `onset up` and
// `onset serve` start from: V8 grows a young generation to its 16 MB default as soon as 16 MB have
// survived scavenges since its last growth, which loading the platform does, and never gives it back.
// At 8 MB `onset up`'s primary holds 10 to 15 MB less under load; `onset train`'s cold fit and
// `onset predict` took the same time either way (measured paired, in fresh processes).
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { debugRequested } from '../config.js';
import { isOnsetError } from '../errors.js';
import { configFrom } from './config-options.js';
import { crashReportFolder, crashReportText, writeCrashReport } from './crash-report.js';
import { registerDataCommands } from './data.js';
import { registerExplainCommand } from './explain.js';
import { registerLambdaCommands } from './lambda.js';
import { registerModelCommands } from './model.js';
import { registerModelsCommands } from './models.js';
import { registerMonitorCommands } from './monitor.js';
import { UsageError } from './options.js';
import { registerPipelineCommands } from './pipeline.js';
import { registerPredictCommands } from './predict.js';
import { registerRunsCommands } from './runs.js';
import { registerSendCommand } from './send.js';
import { registerStreamCommand } from './stream.js';
import { registerTrainCommand } from './train.js';
import { registerUpCommand } from './up.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** The command whose action is running (for the home its crash report goes to). */
let activeCommand: Command | undefined;

export function buildProgram(): Command {
  const program = new Command('onset')
    .description("Onset: an MLOps platform for the early prediction of Parkinson's disease")
    .version(packageJson.version)
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
  registerMonitorCommands(program);
  registerLambdaCommands(program);
  registerStreamCommand(program);
  forEachCommand(program, (command) => command.configureOutput({ outputError: usageLine(command) }));
  program.hook('preAction', (_program, action) => {
    activeCommand = action;
  });
  return program;
}

function forEachCommand(command: Command, visit: (command: Command) => void): void {
  visit(command);
  for (const sub of command.commands) forEachCommand(sub, visit);
}

/**
 * Commander's usage errors ("error: unknown option '--x'", with "(Did you mean --y?)" on a second line)
 * as one `onset:` line that names the command's help.
 */
function usageLine(command: Command): (text: string, write: (text: string) => void) => void {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return (text, write) => {
    const message = text
      .replace(/^error: /, '')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '')
      .join(' ');
    write(`onset: ${message}; see ${names.join(' ')} --help\n`);
  };
}

/**
 * An error nobody expected (a bug, or a failure no code turned into an OnsetError): one line on the
 * terminal and the full report in a file, or on the terminal with ONSET_DEBUG.
 */
function reportUnexpected(error: unknown): void {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0];
  const text = crashReportText(error, process.argv.slice(2), packageJson.version);
  process.stderr.write(`onset: ${message}\n`);
  if (debugRequested()) {
    process.stderr.write(text);
    return;
  }
  let home: string | undefined;
  try {
    home = configFrom(activeCommand?.opts() ?? {}).home;
  } catch {
    // A setting that cannot be read: no home, the report goes to the temporary folder.
  }
  try {
    const path = writeCrashReport(crashReportFolder(home), text);
    process.stderr.write(
      `onset: an unexpected error; the full trace is in ${path} (ONSET_DEBUG=1 prints it)\n`,
    );
  } catch (writeError) {
    process.stderr.write(
      `onset: an unexpected error, and its trace could not be written (${String(writeError)}):\n${text}`,
    );
  }
}

/** Runs the CLI: usage errors exit 2, failures exit 1, each with `onset: <message>` on stderr. */
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
    if (error instanceof UsageError) {
      process.stderr.write(`onset: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    if (isOnsetError(error)) {
      process.stderr.write(`onset: ${error.message}\n`);
      if (debugRequested() && error.stack) process.stderr.write(`${error.stack}\n`);
      process.exitCode = 1;
      return;
    }
    reportUnexpected(error);
    process.exitCode = 1;
  }
}

// A reader that stops early (`onset ... | head`) closes the pipe: that ends the output, not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});
// An error thrown outside a command's promise (a timer, a stream of a running server) ends the process
// the same way, not with Node's stack dump.
for (const event of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(event, (error: unknown) => {
    reportUnexpected(error);
    process.exit(1);
  });
}

await main(process.argv);

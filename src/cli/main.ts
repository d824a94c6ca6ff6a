// `tunelab` entry point: one subcommand per task; each returns its exit code.
import { dataCommand } from './commands/data.ts';
import { initModelCommand } from './commands/init-model.ts';
import { trainCommand } from './commands/train.ts';
import { tuneCommand } from './commands/tune.ts';

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  'init-model': initModelCommand,
  train: trainCommand,
  tune: tuneCommand,
  data: dataCommand,
};

const USAGE = `usage: tunelab <command> [options]   (tunelab <command> --help for its options)
commands: ${Object.keys(COMMANDS).join(', ')}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    process.stderr.write(`${name && name !== '--help' ? `tunelab: unknown command "${name}"\n` : ''}${USAGE}\n`);
    return name === undefined || name === '--help' ? 0 : 2;
  }
  return command(rest);
}

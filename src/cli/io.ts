// What every `tunelab` command shares: where its lines go (stdout: the result; stderr: progress and errors) and
// parsing of numeric flags with errors that name the flag.

export interface CommandIO {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
}

export const processIO: CommandIO = {
  stdout: (s) => process.stdout.write(`${s}\n`),
  stderr: (s) => process.stderr.write(`${s}\n`),
};

/** A mistake in the command line: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function numFlag(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (integer && !Number.isInteger(n))) throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got "${v}"`);
  return n;
}

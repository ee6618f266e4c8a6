import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { CliError } from './errors.js';

export interface PromptIo {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Prompts go to stderr so that stdout carries only results. */
  stderr: NodeJS.WritableStream;
}

/** Asks one question on the terminal; with `hidden` the answer is not echoed (passwords). */
export async function prompt(io: PromptIo, question: string, options: { hidden?: boolean } = {}): Promise<string> {
  let muted = false;
  // readline echoes what is typed through `output`; a password prompt mutes it after the question is shown.
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      if (!muted) io.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: io.stdin, output, terminal: io.stdin.isTTY === true });
  const interrupted = new AbortController();
  // In raw mode Ctrl-C reaches readline as a key, not as a signal to the process.
  rl.on('SIGINT', () => interrupted.abort());
  try {
    const answer = rl.question(question, { signal: interrupted.signal });
    muted = options.hidden === true;
    return await answer;
  } catch (err) {
    if (interrupted.signal.aborted) throw new CliError('interrupted', 130, { cause: err });
    throw err;
  } finally {
    if (muted) io.stderr.write('\n');
    rl.close();
  }
}

/** Reads the whole of stdin as UTF-8 text (`plinth policy check -`). */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Reads the whole of stdin as a password, as `docker login --password-stdin` does:
 * one trailing newline (LF or CRLF) is removed, nothing else.
 */
export async function readPasswordFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  return (await readStdin(stdin)).replace(/\r?\n$/, '');
}

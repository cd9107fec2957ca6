import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The compiled entry point (`.build/src/main.js`), as `node dist/main.js` runs in production. */
const MAIN = join(__dirname, '..', '..', 'src', 'main.js');

/**
 * The real entry point as a child process, resolved once its output shows `ready`; rejected
 * if it exits first. `children` collects it for the suite's clean-up.
 */
export function startMain(
  env: Record<string, string>,
  ready: string,
  children: ChildProcess[],
): Promise<{ child: ChildProcess; out: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) {
        resolve({ child, out: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
  });
}

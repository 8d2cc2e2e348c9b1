// Parent side of the load generator: forks bench/lib/loadgen.ts (autocannon in its own process) and drives rounds.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { InitMsg, ReadyMsg, RoundResult, RunMsg } from './loadgen.ts';

const SCRIPT = fileURLToPath(new URL('./loadgen.ts', import.meta.url));

export class LoadGen {
  private constructor(
    private readonly child: ChildProcess,
    readonly info: ReadyMsg,
  ) {}

  static async start(init: Omit<InitMsg, 'cmd'>): Promise<LoadGen> {
    const child = fork(SCRIPT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const info = await new Promise<ReadyMsg>((resolve, reject) => {
      child.once('message', (m) => resolve(m as ReadyMsg));
      child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before it was ready`)));
      child.send({ cmd: 'init', ...init } satisfies InitMsg);
    });
    return new LoadGen(child, info);
  }

  run(r: Omit<RunMsg, 'cmd'>): Promise<RoundResult> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`load generator exited (${code}) during a round`));
      this.child.once('exit', onExit);
      this.child.once('message', (m) => {
        this.child.off('exit', onExit);
        const msg = m as RoundResult | { type: 'error'; message: string };
        if (msg.type === 'error') reject(new Error(msg.message));
        else resolve(msg);
      });
      this.child.send({ cmd: 'run', ...r } satisfies RunMsg);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.send({ cmd: 'exit' });
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

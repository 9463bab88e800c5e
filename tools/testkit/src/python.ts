import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The original tutorial programs, in Python with pika: an independent AMQP client. */
export const pikaPrograms = {
  send: fileURLToPath(new URL('../python/send.py', import.meta.url)),
  receive: fileURLToPath(new URL('../python/receive.py', import.meta.url)),
  newTask: fileURLToPath(new URL('../python/new_task.py', import.meta.url)),
  worker: fileURLToPath(new URL('../python/worker.py', import.meta.url)),
  emitLog: fileURLToPath(new URL('../python/emit_log.py', import.meta.url)),
  receiveLogs: fileURLToPath(new URL('../python/receive_logs.py', import.meta.url)),
  emitLogDirect: fileURLToPath(new URL('../python/emit_log_direct.py', import.meta.url)),
  receiveLogsDirect: fileURLToPath(new URL('../python/receive_logs_direct.py', import.meta.url)),
  emitLogTopic: fileURLToPath(new URL('../python/emit_log_topic.py', import.meta.url)),
  receiveLogsTopic: fileURLToPath(new URL('../python/receive_logs_topic.py', import.meta.url)),
  rpcServer: fileURLToPath(new URL('../python/rpc_server.py', import.meta.url)),
  rpcClient: fileURLToPath(new URL('../python/rpc_client.py', import.meta.url)),
} as const;

let found: string | undefined;

/**
 * A Python interpreter that can import pika: PYTHON if set, else Debian's /usr/bin/python3
 * (where `apt-get install python3-pika` puts it), else the first python3 on PATH.
 * @throws with what to install when there is none.
 */
export function pythonWithPika(): string {
  if (found !== undefined) return found;
  const candidates = [process.env.PYTHON, '/usr/bin/python3', 'python3'].filter(
    (c): c is string => c !== undefined && c !== '',
  );
  for (const candidate of candidates) {
    try {
      execFileSync(candidate, ['-c', 'import pika'], { stdio: 'ignore', timeout: 10_000 });
      found = candidate;
      return candidate;
    } catch {
      // try the next one
    }
  }
  throw new Error(
    `the interoperability tests run the tutorial's Python programs and need pika: ` +
      `install it (Debian/Ubuntu: 'apt-get install python3-pika'; elsewhere 'pip install pika') ` +
      `or set PYTHON to an interpreter that has it (tried ${candidates.join(', ')})`,
  );
}

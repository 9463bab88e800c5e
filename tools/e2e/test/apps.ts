/** The settings an app gets (over this process's environment); `undefined` removes one. */
export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The lines an app wrote to stderr that are neither the JSON log nor a warning of Node's
 * own (such as the one NODE_TLS_REJECT_UNAUTHORIZED=0 brings): its one-line errors,
 * prefixed with its name.
 */
export function errorLines(stderr: string): string[] {
  return stderr
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('{') && !/^\((node:\d+\) |Use `node )/.test(line));
}

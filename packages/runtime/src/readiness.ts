/**
 * Whether the app should get traffic, as a set of named conditions (`broker`, `startup`,
 * `shutdown`, `consumer`, ...): ready when none is unmet. The app flips them; the
 * `/health/ready` endpoint shows the reasons of the unmet ones.
 */
export interface Readiness {
  readonly ready: boolean;
  /** Why not ready: one reason per unmet condition, in the order they failed. */
  readonly reasons: readonly string[];
  /** Marks `condition` unmet, for `reason`. */
  fail(condition: string, reason: string): void;
  /** Marks `condition` met. */
  pass(condition: string): void;
}

/** A readiness whose conditions start as `unmet` says (`{ startup: 'starting' }`). */
export function createReadiness(unmet: Readonly<Record<string, string>> = {}): Readiness {
  const failing = new Map<string, string>(Object.entries(unmet));
  return {
    get ready() {
      return failing.size === 0;
    },
    get reasons() {
      return [...failing.values()];
    },
    fail: (condition, reason) => {
      failing.set(condition, reason);
    },
    pass: (condition) => {
      failing.delete(condition);
    },
  };
}

// Timers for any duration: Node's own stop at 2^31 - 1 ms (about 24.8 days) and fire at once,
// with a warning, when asked for more.

const MAX_TIMER = 2 ** 31 - 1;

/** Calls fn after `ms` milliseconds, however many. Returns the function that cancels it. */
export function setLongTimeout(fn: () => void, ms: number): () => void {
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => (left > MAX_TIMER ? arm(left - MAX_TIMER) : fn()), Math.min(left, MAX_TIMER));
  };
  arm(ms);
  return () => clearTimeout(timer);
}

/** An abort signal for one upstream request: its caller's signal, or the deadline, whichever comes first. */
export interface Deadline {
  signal: AbortSignal;
  /** True once the deadline (not the caller) aborted the request. */
  readonly expired: boolean;
  /** Cancels the timer and stops following the caller's signal; call when the request is done. */
  clear(): void;
}

/**
 * `AbortSignal.any([outer, AbortSignal.timeout(ms)])` without its per-request cost: that timer stays
 * armed for the whole timeout after the request finished (and then builds and dispatches a
 * TimeoutError), and `any` keeps a composite signal and listeners alive with it. Here the timer is
 * cleared as soon as the request is done.
 */
export function startDeadline(timeoutMs: number, outer?: AbortSignal | null): Deadline {
  const controller = new AbortController();
  let expired = false;
  const timer = setTimeout(() => {
    expired = true;
    controller.abort(new DOMException(`The upstream request did not finish within ${timeoutMs} ms.`, 'TimeoutError'));
  }, timeoutMs);
  const followOuter = () => controller.abort(outer!.reason);
  if (outer?.aborted) followOuter();
  else outer?.addEventListener('abort', followOuter, { once: true });
  return {
    signal: controller.signal,
    get expired() {
      return expired;
    },
    clear() {
      clearTimeout(timer);
      outer?.removeEventListener('abort', followOuter);
    },
  };
}

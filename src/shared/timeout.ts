/**
 * `work`, or a rejection with Error(`message`) once `ms` pass without it settling. The timer is
 * cleared either way, so a prompt answer leaves nothing pending.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([work, expired]).finally(() => clearTimeout(timer));
}

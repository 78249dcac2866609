/**
 * Calls `read` until `done` accepts its answer or the time is up, and returns the last answer.
 * For what settles just after a response: a revocation after a lost race, a NOTIFY, a recovery.
 */
export async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, ms: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + ms;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, everyMs));
    value = await read();
  }
  return value;
}

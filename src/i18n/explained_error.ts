import { en, type MessageKey } from './en.ts';

const EXPLANATION = Symbol('gatehouse.explanation');

export type ExplanationKey = Extract<MessageKey, `error.${string}`>;

/**
 * Gives an error a message for the person reading the error page, in their language; the
 * error's own description stays what RFC JSON answers say.
 */
export function explained<E extends Error>(error: E, message: ExplanationKey): E {
  return Object.assign(error, { [EXPLANATION]: message });
}

export function explanationOf(error: unknown): ExplanationKey | undefined {
  return typeof error === 'object' && error !== null ? (error as { [EXPLANATION]?: ExplanationKey })[EXPLANATION] : undefined;
}

/** The catalogue's sentence for an OAuth error code (`error.code.invalid_client`), if it has one. */
export function codeExplanation(code: string): ExplanationKey | undefined {
  const key = `error.code.${code}`;
  return Object.hasOwn(en, key) ? (key as ExplanationKey) : undefined;
}

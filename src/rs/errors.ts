/**
 * The one error type of the kit. `code` says what went wrong; `status` is the HTTP answer
 * (RFC 6750 section 3.1 for the bearer codes).
 */
export type ResourceServerErrorCode =
  /** No bearer token in the Authorization header: 401 with a bare challenge. */
  | 'missing_token'
  /** Malformed, expired, revoked, inactive or foreign: 401. */
  | 'invalid_token'
  /** The token lacks a scope the request needs: 403, naming the scope. */
  | 'insufficient_scope'
  /** The request method has no scope in the mapping: 405. */
  | 'method_not_allowed'
  /** Gatehouse (discovery, introspection or the JWKS) did not answer in time: 503, never a pass. */
  | 'temporarily_unavailable';

const STATUS: Readonly<Record<ResourceServerErrorCode, number>> = {
  missing_token: 401,
  invalid_token: 401,
  insufficient_scope: 403,
  method_not_allowed: 405,
  temporarily_unavailable: 503,
};

export class ResourceServerError extends Error {
  readonly code: ResourceServerErrorCode;
  readonly status: number;
  /** For insufficient_scope: the scopes the request needs, space-separated. */
  readonly scope: string | undefined;

  constructor(code: ResourceServerErrorCode, message: string, options: { scope?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ResourceServerError';
    this.code = code;
    this.status = STATUS[code];
    this.scope = options.scope;
  }
}

import { createHash } from 'node:crypto';
import type { JWTVerifyGetKey } from 'jose';
import { AnswerCache } from './answer_cache.ts';
import type { Auth, TokenAnswer } from './auth.ts';
import { looksLikeJwt } from './bearer_token.ts';
import { discoverEndpoints, type Endpoints } from './gatehouse_endpoints.ts';
import { introspect } from './introspection.ts';
import { accessTokenKeys, verifyJwtAccessToken } from './jwt_access_token.ts';

export interface ValidatorOptions {
  issuer: string;
  clientId: string;
  clientSecret: string;
  cacheSeconds: number;
  acceptRestricted: boolean;
  loginScope: string;
  timeoutMs: number;
}

// Enough for every token a busy API sees within the cache bound; beyond it the oldest goes first.
const MAX_CACHED_ANSWERS = 10_000;

/**
 * Until when (epoch ms) an answer may serve requests: `cacheSeconds` from `now`, and for an
 * accepted token never past its `exp`, so an expired token is refused at once, not at the bound.
 */
export function answerExpiry(answer: TokenAnswer, now: number, cacheSeconds: number): number {
  const bound = now + cacheSeconds * 1000;
  return 'auth' in answer && answer.exp !== undefined ? Math.min(bound, answer.exp * 1000) : bound;
}

/**
 * Turns a bearer token into its Auth: JWT access tokens locally with the issuer's JWKS, any
 * other token by introspection. Answers are cached no longer than the token lives nor than
 * `cacheSeconds`, so a revocation or a group change reaches the API within that bound; a JWT
 * is cached too, which spares a signature check per request (it cannot be recalled anyway).
 */
export class TokenValidator {
  readonly #options: ValidatorOptions;
  readonly #answers = new AnswerCache<TokenAnswer>(MAX_CACHED_ANSWERS);
  #endpoints: Promise<{ endpoints: Endpoints; keys: JWTVerifyGetKey }> | undefined;

  constructor(options: ValidatorOptions) {
    this.#options = options;
  }

  async validate(token: string): Promise<Auth> {
    const { endpoints, keys } = await this.#discover();
    const { issuer, loginScope } = this.#options;
    const answer = await this.#answers.get(createHash('sha256').update(token).digest('base64url'), async () => {
      const value = looksLikeJwt(token)
        ? await verifyJwtAccessToken(token, keys, issuer, loginScope)
        : await introspect({ ...this.#options, endpoint: endpoints.introspection }, token);
      return { value, expires: answerExpiry(value, Date.now(), this.#options.cacheSeconds) };
    });
    if ('error' in answer) throw answer.error;
    return answer.auth;
  }

  /** Discovery once; a failed attempt is forgotten so the next request tries again. */
  #discover() {
    if (!this.#endpoints) {
      const { issuer, acceptRestricted, timeoutMs } = this.#options;
      this.#endpoints = discoverEndpoints(issuer, timeoutMs).then((endpoints) => ({ endpoints, keys: accessTokenKeys(endpoints, acceptRestricted, timeoutMs) }));
      this.#endpoints.catch(() => {
        this.#endpoints = undefined;
      });
    }
    return this.#endpoints;
  }
}

/**
 * The fields of a client as each surface names them: the CLI's flags and the registration API's
 * metadata (RFC 7591, snake_case). A rule is written once and its message names the field in the
 * words of whichever surface was used.
 */
export const CLIENT_FIELDS = {
  name: { flag: '--name', metadata: 'client_name' },
  kind: { flag: '--kind', metadata: 'kind' },
  redirectUris: { flag: '--redirect-uri', metadata: 'redirect_uris' },
  postLogoutRedirectUris: { flag: '--post-logout-redirect-uri', metadata: 'post_logout_redirect_uris' },
  scopes: { flag: '--scopes', metadata: 'scope' },
  consent: { flag: '--consent', metadata: 'consent' },
  restricted: { flag: '--restricted', metadata: 'restricted' },
  accessTokenFormat: { flag: '--access-token-format', metadata: 'access_token_format' },
  organizations: { flag: '--org', metadata: 'organizations' },
  logoUri: { flag: '--logo-uri', metadata: 'logo_uri' },
  policyUri: { flag: '--policy-uri', metadata: 'policy_uri' },
  tosUri: { flag: '--tos-uri', metadata: 'tos_uri' },
  backchannelLogoutUri: { flag: '--backchannel-logout-uri', metadata: 'backchannel_logout_uri' },
} as const;

export type ClientField = keyof typeof CLIENT_FIELDS;
export type ClientSurface = 'flag' | 'metadata';

/** A message naming the field (and any other field it mentions, by `nameOf`) in a surface's words. */
type Describe = (fieldName: string, nameOf: (field: ClientField) => string) => string;

/** What is wrong with a client, naming the field; `message` is in the CLI's words. */
export class ClientSpecError extends Error {
  override name = 'ClientSpecError';
  readonly field: ClientField;
  readonly #describe: Describe;

  constructor(field: ClientField, describe: Describe) {
    super(describe(CLIENT_FIELDS[field].flag, (other) => CLIENT_FIELDS[other].flag));
    this.field = field;
    this.#describe = describe;
  }

  /** The message in a surface's words; it always starts with or contains the field's name. */
  describeFor(surface: ClientSurface): string {
    const name = CLIENT_FIELDS[this.field][surface];
    const nameOf = (other: ClientField) => CLIENT_FIELDS[other][surface];
    // A message that does not say the field's name itself is prefixed with it.
    const namesField = this.#describe('\u0000', nameOf).includes('\u0000');
    const text = this.#describe(name, nameOf);
    return namesField ? text : `${name}: ${text}`;
  }
}

/** The value if it is one of the allowed ones, or a ClientSpecError naming the field. */
export function oneOf<T extends string>(field: ClientField, value: string | undefined, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) throw new ClientSpecError(field, (name) => `${name} must be one of ${allowed.join(', ')}${value ? ` (got ${value})` : ''}`);
  return value as T;
}

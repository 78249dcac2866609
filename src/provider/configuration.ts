import type { Configuration, JWK, SigningAlgorithm } from 'oidc-provider';
import type { Stores } from '../storage/adapter_router.ts';
import { adapterFactory } from '../storage/adapter_router.ts';
import { EXTRA_CLIENT_METADATA } from '../policy/client_kinds.ts';
import { resourceIndicators } from './resource_server.ts';
import { introspectionAllowed, revocationAllowed } from './token_policies.ts';
import { renderError } from './render_error.ts';
import { TTL } from './ttl.ts';

export interface ProviderInputs {
  issuer: string;
  stores: Stores;
  signingKeys: JWK[];
  cookieKeys: string[];
  /** Every scope of the catalogue: clients may only be registered with these. */
  scopes: string[];
}

// Only asymmetric algorithms: client secrets are stored hashed, so they cannot be HMAC keys.
const ASYMMETRIC_ALGS: SigningAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** The oidc-provider configuration: every default that matters is set here on purpose. */
export function providerConfiguration(inputs: ProviderInputs): Configuration {
  return {
    adapter: adapterFactory(inputs.stores),
    scopes: inputs.scopes,
    jwks: { keys: inputs.signingKeys },
    cookies: {
      keys: inputs.cookieKeys,
      long: { signed: true, httpOnly: true, sameSite: 'lax' },
      short: { signed: true, httpOnly: true, sameSite: 'lax' },
    },
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ASYMMETRIC_ALGS,
      requestObjectSigningAlgValues: ASYMMETRIC_ALGS,
      idTokenSigningAlgValues: ['RS256', 'ES256'],
      userinfoSigningAlgValues: ['RS256', 'ES256'],
      introspectionSigningAlgValues: ['RS256', 'ES256'],
      authorizationSigningAlgValues: ['RS256', 'ES256'],
    },
    extraClientMetadata: {
      properties: [...EXTRA_CLIENT_METADATA],
    },
    // Implicit and hybrid flows hand tokens to the browser's address bar: code only.
    responseTypes: ['code'],
    allowOmittingSingleRegisteredRedirectUri: false,
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      resourceIndicators: resourceIndicators(inputs.issuer),
    },
    // Accounts arrive with the login flow; until then no subject resolves.
    findAccount: async () => undefined,
    clientBasedCORS: () => false,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError,
    ttl: { ...TTL },
  };
}

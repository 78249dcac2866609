import type { Knex } from 'knex';
import type { AdapterFactory, Client, ClientMetadata, Configuration, ExternalSigningKey, FindAccount, JWK, KoaContextWithOIDC, SigningAlgorithm } from 'oidc-provider';
import { EXTRA_CLIENT_METADATA } from '../policy/client_kinds.ts';
import { SCOPE_CLAIMS } from '../policy/claims.ts';
import { latestGrantId } from '../storage/grants.ts';
import { logoutSource, postLogoutSuccessSource } from './logout_pages.ts';
import { operatorFetch } from './backchannel_logout.ts';
import { resourceIndicators, type AccessTokenKeys } from './resource_server.ts';
import type { ScopeService } from './scope_service.ts';
import { extraTokenClaims } from './token_claims.ts';
import { nameGrantInJwt } from './userinfo_tokens.ts';
import { introspectionAllowed, revocationAllowed } from './token_policies.ts';
import { renderErrorPage } from '../pages.ts';
import { TTL } from './ttl.ts';
import { accountPageClient } from '../account/page_client.ts';

/**
 * Where the provider keeps its models: Gatehouse's adapters, or (the benchmark's baseline)
 * oidc-provider's in-memory adapter with the clients given statically.
 */
export type ProviderStorage = { adapter: AdapterFactory } | { clients: ClientMetadata[] };

export interface ProviderInputs {
  issuer: string;
  storage: ProviderStorage;
  /** The database of accounts' grants, where consent given in an earlier session is found. */
  db: Knex;
  signingKeys: ReadonlyArray<JWK | ExternalSigningKey>;
  cookieKeys: string[];
  /** The OIDC scopes (claims and refresh); every other scope is the resource's, decided by the policy. */
  scopes: string[];
  findAccount: FindAccount;
  scopeService: ScopeService;
  accessTokenKeys: AccessTokenKeys;
}

// Only asymmetric algorithms: client secrets are stored hashed, so they cannot be HMAC keys.
const ASYMMETRIC_ALGS: SigningAlgorithm[] = ['RS256', 'PS256', 'ES256', 'EdDSA'];

/** The oidc-provider configuration: every default that matters is set here on purpose. */
export function providerConfiguration(inputs: ProviderInputs): Configuration {
  return {
    ...inputs.storage,
    // The account page signs people in as a client of its own, known only here (src/account/page_client.ts).
    clients: [...('clients' in inputs.storage ? inputs.storage.clients : []), accountPageClient(inputs.issuer)],
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
    // Every feature oidc-provider 9 turns on by default is named here, on or off, with its reason;
    // the discovery table in the README's Endpoints section lists what is on (protocol_surface.test.ts).
    features: {
      devInteractions: { enabled: false },
      // Keys are external so that a rotation takes effect without rebuilding the provider (signing_key_ring.ts).
      externalSigningSupport: { enabled: true, ack: 'experimental-01' },
      userinfo: { enabled: true },
      // DPoP (RFC 9449), optional: a client that holds a key binds its tokens to it, so a token
      // stolen from a SPA's storage or a log is useless alone. Proofs are single use across
      // servers (ReplayDetection is in the shared store).
      dPoP: { enabled: true },
      // PAR (RFC 9126), optional: the client posts its request, authenticated, and the browser
      // carries only a request_uri (RFC 9700 recommends it, FAPI 2.0 requires it). The request
      // passes the same checks and scope policy as at /auth: nothing new is reachable.
      pushedAuthorizationRequests: { enabled: true, requirePushedAuthorizationRequests: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: introspectionAllowed },
      revocation: { enabled: true, allowedPolicy: revocationAllowed },
      resourceIndicators: resourceIndicators(inputs.issuer, inputs.scopeService, inputs.accessTokenKeys),
      rpInitiatedLogout: { enabled: true, logoutSource, postLogoutSuccessSource },
      backchannelLogout: { enabled: true },
    },
    fetch: operatorFetch,
    findAccount: inputs.findAccount,
    extraTokenClaims: extraTokenClaims(inputs.scopeService),
    formats: { customizers: { jwt: nameGrantInJwt } },
    // /reg is Gatehouse's own route (src/registration/routes.ts), so oidc-provider's registration stays off.
    discovery: { restricted_jwks_uri: `${inputs.issuer}/jwks/restricted`, registration_endpoint: `${inputs.issuer}/reg` },
    claims: Object.fromEntries(Object.entries(SCOPE_CLAIMS).map(([scope, claims]) => [scope, [...claims]])),
    clientBasedCORS,
    loadExistingGrant: async (ctx) => {
      const clientId = ctx.oidc.client!.clientId;
      const grantId = ctx.oidc.result?.consent?.grantId
        ?? ctx.oidc.session!.grantIdFor(clientId)
        ?? (ctx.oidc.session!.accountId ? await latestGrantId(inputs.db, ctx.oidc.session!.accountId, clientId) : undefined);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    renderError: renderErrorPage,
    ttl: { ...TTL },
  };
}

/** Browsers may call the token and userinfo endpoints only from a SPA's own redirect origins. */
function clientBasedCORS(_ctx: KoaContextWithOIDC, origin: string, client: Client): boolean {
  if (client.kind !== 'spa') return false;
  return (client.redirectUris ?? []).some((uri) => new URL(uri).origin === origin);
}

import { errors, type KoaContextWithOIDC } from 'oidc-provider';

interface PolicyClient {
  clientId: string;
  kind?: string;
}

/**
 * RFC 7662 leaves who may introspect to the server. Only registered resource servers may: a
 * client that could introspect could probe any token it found (oidc-provider's default lets
 * every confidential client introspect every token). Others get `active: false` for every
 * token, so the answer tells them nothing.
 */
export async function introspectionAllowed(_ctx: KoaContextWithOIDC, client: PolicyClient): Promise<boolean> {
  return client.kind === 'resource-server';
}

/** RFC 7009 §2.1: a client revokes only tokens issued to it; anything else is refused. */
export async function revocationAllowed(_ctx: KoaContextWithOIDC, client: PolicyClient, token: { clientId?: string }): Promise<boolean> {
  if (token.clientId !== client.clientId) {
    throw new errors.InvalidRequest('the token was not issued to this client');
  }
  return true;
}

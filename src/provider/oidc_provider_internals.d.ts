/** The one oidc-provider internal Gatehouse reaches (src/provider/form_post_page.ts). */
declare module 'oidc-provider/lib/helpers/weak_cache.js' {
  import type { KoaContextWithOIDC, Provider } from 'oidc-provider';

  type ResponseMode = (ctx: KoaContextWithOIDC, redirectUri: string, params: Record<string, string>) => Promise<void> | void;

  export default function internals(provider: Provider): { responseModes: Map<string, ResponseMode> };
}

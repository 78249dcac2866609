import { XMLParser } from 'fast-xml-parser';
import type { Identity } from '../storage/accounts.ts';

/**
 * A CAS 3.0 client: the login redirect and the ticket validation at /p3/serviceValidate.
 * https://apereo.github.io/cas/7.0.x/protocol/CAS-Protocol-Specification.html
 */
export function casLoginUrl(casUrl: string, service: string, renew = false): string {
  return `${casUrl}/login?${new URLSearchParams({ service, ...renewal(renew) })}`;
}

/** renew=true: CAS asks for the password even within its own single sign-on session (CAS 3.0 §2.1.1, §2.5.1). */
function renewal(renew: boolean): Record<string, string> {
  return renew ? { renew: 'true' } : {};
}

export type CasValidation =
  | { ok: true; user: string; attributes: Record<string, string[]> }
  | { ok: false; code: string; description: string };

// Validation is a server-to-server call the user is waiting on.
const VALIDATE_TIMEOUT_MS = 5000;

const parser = new XMLParser({
  removeNSPrefix: true,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  trimValues: true,
  // Every attribute may repeat (memberOf does), so each is a list.
  jPath: true,
  isArray: (_name, path) => String(path).startsWith('serviceResponse.authenticationSuccess.attributes.'),
});

export async function casValidateTicket(casUrl: string, ticket: string, service: string, renew = false): Promise<CasValidation> {
  const url = `${casUrl}/p3/serviceValidate?${new URLSearchParams({ service, ticket, ...renewal(renew) })}`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(VALIDATE_TIMEOUT_MS), redirect: 'error' });
  } catch (error) {
    return { ok: false, code: 'CAS_UNREACHABLE', description: `the CAS server could not be reached: ${(error as Error).message}` };
  }
  if (!response.ok) return { ok: false, code: 'CAS_UNREACHABLE', description: `the CAS server answered HTTP ${response.status}` };
  return parseServiceResponse(await response.text());
}

// CAS never sends a DTD; one in a document is an attack on the parser (entity expansion).
const hasDtd = (xml: string) => /<!DOCTYPE/i.test(xml);

/** Parses a CAS 3.0 serviceResponse document. */
export function parseServiceResponse(xml: string): CasValidation {
  if (hasDtd(xml)) return { ok: false, code: 'INVALID_RESPONSE', description: 'the CAS response carries a DTD' };
  let document: { serviceResponse?: { authenticationSuccess?: Success; authenticationFailure?: Failure | string } };
  try {
    document = parser.parse(xml, true) as typeof document;
  } catch {
    return { ok: false, code: 'INVALID_RESPONSE', description: 'the CAS response is not well-formed XML' };
  }
  const success = document.serviceResponse?.authenticationSuccess;
  if (success && typeof success.user === 'string' && success.user) {
    const attributes: Record<string, string[]> = {};
    for (const [name, values] of Object.entries(success.attributes ?? {})) {
      attributes[name] = (values as unknown[]).map((value) => String(typeof value === 'object' && value ? (value as { '#text'?: string })['#text'] ?? '' : value));
    }
    return { ok: true, user: success.user, attributes };
  }
  const failure = document.serviceResponse?.authenticationFailure;
  if (failure !== undefined) {
    const code = typeof failure === 'object' ? failure['@code'] ?? 'UNKNOWN' : 'UNKNOWN';
    const description = typeof failure === 'object' ? failure['#text'] ?? '' : failure;
    return { ok: false, code, description };
  }
  return { ok: false, code: 'INVALID_RESPONSE', description: 'the CAS response is neither a success nor a failure' };
}

const logoutParser = new XMLParser({ removeNSPrefix: true, ignoreAttributes: true, parseTagValue: false, trimValues: true });

/**
 * The service ticket a CAS single logout request names: the SessionIndex of the SAML
 * LogoutRequest that CAS posts to the service (CAS 3.0 §2.3.3, appendix C), or undefined.
 */
export function logoutRequestTicket(xml: string): string | undefined {
  if (hasDtd(xml)) return undefined;
  try {
    const document = logoutParser.parse(xml, true) as { LogoutRequest?: { SessionIndex?: unknown } };
    const ticket = document.LogoutRequest?.SessionIndex;
    return typeof ticket === 'string' && ticket ? ticket : undefined;
  } catch {
    return undefined;
  }
}

interface Success {
  user?: unknown;
  attributes?: Record<string, unknown>;
}

interface Failure {
  '@code'?: string;
  '#text'?: string;
}

// Directories name the same thing differently; the first attribute present wins.
const ATTRIBUTE_NAMES = {
  email: ['email', 'mail'],
  name: ['displayName', 'name', 'cn'],
  givenName: ['givenName', 'given_name', 'firstName'],
  familyName: ['sn', 'familyName', 'family_name', 'surname', 'lastName'],
} as const;

/** Maps CAS attributes to the account's identity. CAS vouches for the mail address it releases. */
export function casIdentity(attributes: Record<string, string[]>): Identity {
  const first = (names: readonly string[]) => names.map((name) => attributes[name]?.[0]).find(Boolean);
  const email = first(ATTRIBUTE_NAMES.email);
  return {
    email,
    emailVerified: Boolean(email),
    name: first(ATTRIBUTE_NAMES.name),
    givenName: first(ATTRIBUTE_NAMES.givenName),
    familyName: first(ATTRIBUTE_NAMES.familyName),
    attributes,
  };
}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { listen } from './listen.ts';

/**
 * A CAS server as far as Gatehouse can tell: /cas/login redirects back to the service with a
 * service ticket (after a form, for browsers), /cas/p3/serviceValidate answers the CAS 3.0 XML
 * of the protocol specification, tickets are single use and bound to their service, and single
 * logout posts a SAML LogoutRequest to the service the way Apereo CAS does.
 */
export interface CasServer {
  url: string;
  /** Who signs in at the next /login (the test's stand-in for a person typing). */
  signInAs(user: string, attributes: Record<string, string[]>): void;
  /** Every /login and serviceValidate request received, for asserting what Gatehouse sent. */
  logins: URLSearchParams[];
  validations: URLSearchParams[];
  /** Every ticket issued, newest last, with the service it was issued for. */
  issued: Array<{ ticket: string; service: string }>;
  /**
   * CAS single logout (CAS 3.0 §2.3.3): the person signed out at CAS, which posts a
   * LogoutRequest naming the ticket to the service it was issued for. Returns Gatehouse's answer.
   */
  singleLogout(issued: { ticket: string; service: string }): Promise<Response>;
  close(): Promise<void>;
}

export async function startCasServer(): Promise<CasServer> {
  const tickets = new Map<string, { service: string; user: string; attributes: Record<string, string[]> }>();
  let person: { user: string; attributes: Record<string, string[]> } = { user: 'nobody', attributes: {} };
  const logins: URLSearchParams[] = [];
  const validations: URLSearchParams[] = [];
  const issued: Array<{ ticket: string; service: string }> = [];

  const http = await listen((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://cas.local');
    if (url.pathname === '/cas/login') {
      logins.push(url.searchParams);
      const service = url.searchParams.get('service') ?? '';
      const ticket = `ST-${randomBytes(12).toString('hex')}-cas`;
      tickets.set(ticket, { service, ...person });
      issued.push({ ticket, service });
      res.writeHead(302, { location: `${service}${service.includes('?') ? '&' : '?'}ticket=${ticket}` }).end();
      return;
    }
    if (url.pathname === '/cas/p3/serviceValidate') {
      validations.push(url.searchParams);
      const ticket = url.searchParams.get('ticket') ?? '';
      const service = url.searchParams.get('service') ?? '';
      const issued = tickets.get(ticket);
      tickets.delete(ticket);
      res.writeHead(200, { 'content-type': 'application/xml;charset=UTF-8' });
      if (!issued) res.end(failure('INVALID_TICKET', `Ticket ${ticket} not recognized`));
      else if (issued.service !== service) res.end(failure('INVALID_SERVICE', `Ticket ${ticket} does not match supplied service. The original service was ${issued.service} and the supplied service was ${service}.`));
      else res.end(success(issued.user, issued.attributes));
      return;
    }
    res.writeHead(404).end();
  });
  return {
    url: `${http.url}/cas`,
    signInAs: (user, attributes) => { person = { user, attributes }; },
    logins,
    validations,
    issued,
    singleLogout: ({ ticket, service }) => fetch(service, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ logoutRequest: logoutRequest(ticket) }),
      redirect: 'manual',
    }),
    close: http.close,
  };
}

/** The LogoutRequest of the CAS protocol's appendix C: the SessionIndex is the service ticket. */
function logoutRequest(ticket: string): string {
  return `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="LR-${randomBytes(8).toString('hex')}" Version="2.0" IssueInstant="${new Date().toISOString()}">
  <saml:NameID>@NOT_USED@</saml:NameID>
  <samlp:SessionIndex>${escape(ticket)}</samlp:SessionIndex>
</samlp:LogoutRequest>`;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function success(user: string, attributes: Record<string, string[]>): string {
  const attributeXml = Object.entries(attributes)
    .flatMap(([name, values]) => values.map((value) => `      <cas:${name}>${escape(value)}</cas:${name}>`))
    .join('\n');
  return `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>${escape(user)}</cas:user>
    <cas:attributes>
      <cas:authenticationDate>2026-11-27T08:30:00.000Z</cas:authenticationDate>
      <cas:longTermAuthenticationRequestTokenUsed>false</cas:longTermAuthenticationRequestTokenUsed>
      <cas:isFromNewLogin>true</cas:isFromNewLogin>
${attributeXml}
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>`;
}

function failure(code: string, message: string): string {
  return `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationFailure code="${code}">
    ${escape(message)}
  </cas:authenticationFailure>
</cas:serviceResponse>`;
}

import { casIdentity, casLoginUrl, logoutRequestTicket, parseServiceResponse } from '../../src/identity/cas_client.ts';

test('the login URL carries the service, encoded', () => {
  expect(casLoginUrl('https://cas.example.edu/cas', 'https://login.example.edu/interaction/abc/cas'))
    .toBe('https://cas.example.edu/cas/login?service=https%3A%2F%2Flogin.example.edu%2Finteraction%2Fabc%2Fcas');
});

test('a CAS 3.0 success yields the user and every attribute as a list', () => {
  const result = parseServiceResponse(`<?xml version="1.0"?>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
  <cas:authenticationSuccess>
    <cas:user>jdoe</cas:user>
    <cas:attributes>
      <cas:mail>jdoe@example.edu</cas:mail>
      <cas:displayName>Jane &amp; Doe</cas:displayName>
      <cas:memberOf>faculty</cas:memberOf>
      <cas:memberOf>staff</cas:memberOf>
    </cas:attributes>
  </cas:authenticationSuccess>
</cas:serviceResponse>`);
  expect(result).toEqual({ ok: true, user: 'jdoe', attributes: { mail: ['jdoe@example.edu'], displayName: ['Jane & Doe'], memberOf: ['faculty', 'staff'] } });
});

test.each([
  ['INVALID_TICKET', 'Ticket ST-1856339-aA5Yuvrxzpv8Tau1cYQ7 not recognized'],
  ['INVALID_SERVICE', 'Ticket ST-1 does not match supplied service'],
])('a %s failure carries its code and message', (code, message) => {
  const xml = `<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas">
    <cas:authenticationFailure code="${code}">
        ${message}
    </cas:authenticationFailure>
</cas:serviceResponse>`;
  expect(parseServiceResponse(xml)).toEqual({ ok: false, code, description: message });
});

test.each([
  ['not XML at all', 'INVALID_RESPONSE'],
  ['<html><body>CAS is down for maintenance</body></html>', 'INVALID_RESPONSE'],
  ['<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user></cas:user></cas:authenticationSuccess></cas:serviceResponse>', 'INVALID_RESPONSE'],
])('%j is not mistaken for a success', (xml, code) => {
  expect(parseServiceResponse(xml)).toMatchObject({ ok: false, code });
});

test('a response with a DTD (an entity expansion attack) is refused', () => {
  const bomb = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>&lol2;</cas:user></cas:authenticationSuccess></cas:serviceResponse>`;
  expect(parseServiceResponse(bomb)).toEqual({ ok: false, code: 'INVALID_RESPONSE', description: 'the CAS response carries a DTD' });
});

test('CAS attributes map to the account, whichever common name the directory uses', () => {
  expect(casIdentity({ mail: ['a@x.edu'], displayName: ['A B'], givenName: ['A'], sn: ['B'] }))
    .toMatchObject({ email: 'a@x.edu', emailVerified: true, name: 'A B', givenName: 'A', familyName: 'B' });
  expect(casIdentity({ email: ['c@x.edu'], cn: ['C D'], firstName: ['C'], lastName: ['D'] }))
    .toMatchObject({ email: 'c@x.edu', name: 'C D', givenName: 'C', familyName: 'D' });
  expect(casIdentity({})).toMatchObject({ email: undefined, emailVerified: false });
});

test('a CAS single logout request names the service ticket in its SessionIndex', () => {
  // As Apereo CAS sends it: one line, the NameID declaring its own namespace.
  const xml = '<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="LR-2-PEEYyxiluatZ1cvq" Version="2.0" IssueInstant="2015-02-10T17:18:24Z">'
    + '<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">@NOT_USED@</saml:NameID><samlp:SessionIndex>ST-1-LUfT6jLdktQZYOkOe3TR-cas</samlp:SessionIndex></samlp:LogoutRequest>';
  expect(logoutRequestTicket(xml)).toBe('ST-1-LUfT6jLdktQZYOkOe3TR-cas');
});

test.each([
  ['two SessionIndex elements', '<LogoutRequest><SessionIndex>ST-1</SessionIndex><SessionIndex>ST-2</SessionIndex></LogoutRequest>'],
  ['another element', '<LogoutResponse><SessionIndex>ST-1</SessionIndex></LogoutResponse>'],
  ['an empty SessionIndex', '<LogoutRequest><SessionIndex/></LogoutRequest>'],
  ['unclosed XML', '<LogoutRequest><SessionIndex>ST-1'],
])('a logout request with %s names no ticket', (_case, xml) => {
  expect(logoutRequestTicket(xml)).toBeUndefined();
});

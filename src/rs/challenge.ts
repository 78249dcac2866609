import type { ResourceServerError } from './errors.ts';

export interface ErrorResponse {
  status: number;
  headers: Record<string, string>;
  body: { error?: string; error_description: string; scope?: string };
}

// RFC 6750 section 3: attribute values are %x20-21 / %x23-5B / %x5D-7E (no quote, no backslash).
const quotable = (text: string) => text.replace(/[^\x20\x21\x23-\x5B\x5D-\x7E]/g, '').replace(/"/g, '');

/**
 * The HTTP answer for an error, as RFC 6750 section 3 says: a request without a token gets a
 * bare `Bearer` challenge (no error code, section 3.1); a bad token `invalid_token`; a missing
 * scope 403 `insufficient_scope` naming the scope. The JSON body says the same.
 */
export function errorResponse(error: ResourceServerError): ErrorResponse {
  const description = error.message;
  switch (error.code) {
    case 'missing_token':
      return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error_description: description } };
    case 'invalid_token':
    case 'insufficient_scope': {
      const scope = error.scope === undefined ? '' : `, scope="${quotable(error.scope)}"`;
      return {
        status: error.status,
        headers: { 'www-authenticate': `Bearer error="${error.code}", error_description="${quotable(description)}"${scope}` },
        body: { error: error.code, error_description: description, ...(error.scope === undefined ? {} : { scope: error.scope }) },
      };
    }
    case 'method_not_allowed':
    case 'temporarily_unavailable':
      return { status: error.status, headers: {}, body: { error: error.code, error_description: description } };
  }
}

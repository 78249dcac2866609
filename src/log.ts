import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Structured JSON logs on stdout. Anything that could carry a credential is redacted by
 * path, so a careless `log.info({ req })` cannot leak a secret or a token.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({
    level,
    base: { service: 'gatehouse' },
    redact: {
      paths: [
        '*.client_secret', '*.password', '*.token', '*.refresh_token', '*.access_token', '*.code',
        '*.d', '*.p', '*.q', '*.dp', '*.dq', '*.qi', '*.k', '*.authorization', '*.cookie',
        'req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]',
      ],
      censor: '[redacted]',
    },
  }, destination);
}

import { z } from 'zod';

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  /** Gatehouse's issuer URL. */
  ISSUER: z.url({ protocol: /^https?$/ }).refine((url) => !url.endsWith('/'), 'no trailing slash').default('http://localhost:3000'),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }),
  /** The API's own client at Gatehouse: `gatehouse clients create --kind resource-server`. */
  RS_CLIENT_ID: z.string().min(1),
  RS_CLIENT_SECRET: z.string().min(1),
  RS_CACHE_SECONDS: z.coerce.number().min(0).default(30),
  RS_ACCEPT_RESTRICTED: z.enum(['true', 'false']).default('false').transform((value) => value === 'true'),
  LOGIN_SCOPE: z.string().min(1).default('auth-cas'),
});

/** The example's settings from its environment; a bad value stops it with one line. */
export function exampleConfig(env: NodeJS.ProcessEnv) {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    console.error(`invalid configuration: ${issue.path.join('.')}: ${issue.message}`);
    process.exit(2);
  }
  const e = parsed.data;
  return {
    port: e.PORT,
    issuer: e.ISSUER,
    databaseUrl: e.DATABASE_URL,
    clientId: e.RS_CLIENT_ID,
    clientSecret: e.RS_CLIENT_SECRET,
    cacheSeconds: e.RS_CACHE_SECONDS,
    acceptRestricted: e.RS_ACCEPT_RESTRICTED,
    loginScope: e.LOGIN_SCOPE,
  };
}

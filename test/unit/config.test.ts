import { ConfigError, loadConfig } from '../../src/config.ts';

test('with no environment at all, the embedded setup is configured', () => {
  const config = loadConfig({});
  expect(config).toMatchObject({
    issuer: 'http://localhost:3000',
    port: 3000,
    redisUrl: undefined,
    identity: { kind: 'local' },
    groups: { kind: 'db' },
    loginScope: 'auth-cas',
    groupCacheSeconds: 30,
    databaseIdleTimeoutSeconds: 30,
  });
  expect(config.database).toEqual({ kind: 'embedded', dataDir: expect.stringMatching(/\/data$/) });
});

test('a full production environment is read as given', () => {
  const config = loadConfig({
    ISSUER: 'https://login.example.edu',
    PORT: '8080',
    DATABASE_URL: 'postgres://gh:pw@db.internal:5432/gatehouse',
    REDIS_URL: 'redis://cache.internal:6379/2',
    COOKIE_KEYS: `${'a'.repeat(32)},${'b'.repeat(40)}`,
    IDENTITY: 'cas',
    CAS_URL: 'https://cas.example.edu/cas/',
    GROUPS: 'grouper',
    GROUPER_URL: 'https://grouper.example.edu/grouper-ws',
    LOGIN_SCOPE: 'auth-shib',
    GROUP_CACHE_SECONDS: '5',
    DATABASE_IDLE_TIMEOUT_SECONDS: '600',
    SHUTDOWN_DRAIN_SECONDS: '15',
  });
  expect(config).toMatchObject({
    issuer: 'https://login.example.edu',
    port: 8080,
    database: { kind: 'postgres', url: 'postgres://gh:pw@db.internal:5432/gatehouse' },
    redisUrl: 'redis://cache.internal:6379/2',
    cookieKeys: ['a'.repeat(32), 'b'.repeat(40)],
    identity: { kind: 'cas', casUrl: 'https://cas.example.edu/cas' },
    groups: { kind: 'grouper', grouperUrl: 'https://grouper.example.edu/grouper-ws' },
    loginScope: 'auth-shib',
    groupCacheSeconds: 5,
    databaseIdleTimeoutSeconds: 600,
    shutdownDrainSeconds: 15,
  });
});

test('an empty variable counts as unset', () => {
  expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.kind).toBe('embedded');
});

test.each([
  [{ PORT: 'eighty' }, /^invalid configuration: PORT: /],
  [{ PORT: '70000' }, /^invalid configuration: PORT: /],
  [{ ISSUER: 'login.example.edu' }, /^invalid configuration: ISSUER: /],
  [{ ISSUER: 'https://login.example.edu/' }, /^invalid configuration: ISSUER: expected an http\(s\) URL with no trailing slash, query or fragment/],
  [{ DATABASE_URL: 'mysql://db/x' }, /^invalid configuration: DATABASE_URL: /],
  [{ IDENTITY: 'ldap' }, /^invalid configuration: IDENTITY: expected local or cas$/],
  [{ PORT: 'eighty' }, /^invalid configuration: PORT: expected an integer from 0 to 65535$/],
  [{ IDENTITY: 'cas' }, /^invalid configuration: CAS_URL: required when IDENTITY=cas/],
  [{ GROUPS: 'grouper' }, /^invalid configuration: GROUPER_URL: required when GROUPS=grouper/],
  [{ COOKIE_KEYS: 'short' }, /^invalid configuration: COOKIE_KEYS: expected a comma-separated list of keys of 32 or more characters$/],
  [{ GROUP_CACHE_SECONDS: '-1' }, /^invalid configuration: GROUP_CACHE_SECONDS: /],
  [{ DATABASE_IDLE_TIMEOUT_SECONDS: '0' }, /^invalid configuration: DATABASE_IDLE_TIMEOUT_SECONDS: expected an integer number of seconds from 1 to 86400$/],
  [{ SHUTDOWN_DRAIN_SECONDS: '2.5' }, /^invalid configuration: SHUTDOWN_DRAIN_SECONDS: expected an integer number of seconds from 0 to 300$/],
  [{ LOGIN_SCOPE: 'auth cas' }, /^invalid configuration: LOGIN_SCOPE: expected a single scope token, e.g. auth-cas$/],
  [{ TRUST_PROXY: 'maybe' }, /^invalid configuration: TRUST_PROXY: expected false, the number of proxies in front \(true is 1\), or a comma-separated list of their addresses or CIDR ranges, e.g. 10.0.0.0\/8,::1$/],
  [{ TRUST_PROXY: '11' }, /^invalid configuration: TRUST_PROXY: expected false, the number of proxies/],
  [{ TRUST_PROXY: '10.0.0.0/33' }, /^invalid configuration: TRUST_PROXY: expected false, the number of proxies/],
  [{ TRUST_PROXY: '10.0.0.1,proxy.internal' }, /^invalid configuration: TRUST_PROXY: expected false, the number of proxies/],
  [{ METRICS_TOKEN: 'a'.repeat(31) }, /^invalid configuration: METRICS_TOKEN: expected a token of 32 or more printable characters/],
  [{ METRICS_TOKEN: `${'a'.repeat(20)} ${'b'.repeat(20)}` }, /^invalid configuration: METRICS_TOKEN: /],
  [{ REDIS_CLUSTER_NODES: 'redis-1:6379,redis-2' }, /^invalid configuration: REDIS_CLUSTER_NODES: expected a comma-separated list of host:port, e.g. redis-1:6379,redis-2:6379$/],
  [{ REDIS_CLUSTER_NODES: 'redis://redis-1:6379' }, /^invalid configuration: REDIS_CLUSTER_NODES: /],
  [{ REDIS_SENTINELS: 'sentinel-1:99999' }, /^invalid configuration: REDIS_SENTINELS: expected a comma-separated list of host:port/],
  [{ REDIS_SENTINELS: 's:26379', REDIS_SENTINEL_MASTER: 'my master' }, /^invalid configuration: REDIS_SENTINEL_MASTER: expected a master name as the sentinels know it/],
  [{ REDIS_CLUSTER_NODES: 'r:6379', REDIS_SENTINELS: 's:26379' }, /^invalid configuration: REDIS_SENTINELS: required to be unset when REDIS_CLUSTER_NODES is set/],
])('%j is refused with one line naming the variable', (env, message) => {
  expect(() => loadConfig(env)).toThrow(ConfigError);
  expect(() => loadConfig(env)).toThrow(message);
});

test.each([
  [undefined, { kind: 'none' }],
  ['false', { kind: 'none' }],
  ['true', { kind: 'hops', hops: 1 }],
  ['2', { kind: 'hops', hops: 2 }],
  ['10.0.0.0/8, 192.0.2.10,::1,fd00::/8', { kind: 'addresses', ranges: ['10.0.0.0/8', '192.0.2.10', '::1', 'fd00::/8'] }],
])('TRUST_PROXY=%s names which proxies are believed', (value, trustProxy) => {
  expect(loadConfig({ TRUST_PROXY: value }).trustProxy).toEqual(trustProxy);
});

test('a Redis Cluster is given by some of its nodes, Sentinel by its sentinels and the master\'s name', () => {
  expect(loadConfig({ REDIS_CLUSTER_NODES: 'redis-1:6379, 10.0.0.2:7000,[fd00::3]:6379' })).toMatchObject({
    redisUrl: undefined,
    redisCluster: [{ host: 'redis-1', port: 6379 }, { host: '10.0.0.2', port: 7000 }, { host: 'fd00::3', port: 6379 }],
    redisSentinel: undefined,
  });
  expect(loadConfig({ REDIS_SENTINELS: 's-1:26379,s-2:26379', REDIS_URL: 'redis://:pw@unused:6379' })).toMatchObject({
    redisUrl: 'redis://:pw@unused:6379',
    redisCluster: undefined,
    redisSentinel: { sentinels: [{ host: 's-1', port: 26379 }, { host: 's-2', port: 26379 }], masterName: 'mymaster' },
  });
  expect(loadConfig({ REDIS_SENTINELS: 's-1:26379', REDIS_SENTINEL_MASTER: 'gatehouse-cache' }).redisSentinel?.masterName).toBe('gatehouse-cache');
  // A name REDIS_URL accepts is accepted here too: Docker names containers project_service_1.
  expect(loadConfig({ REDIS_SENTINELS: 'gatehouse_sentinel_1:26379' }).redisSentinel?.sentinels).toEqual([{ host: 'gatehouse_sentinel_1', port: 26379 }]);
});

test('a refused value is never echoed back, since it may hold a password', () => {
  expect(() => loadConfig({ DATABASE_URL: 'mysql://admin:hunter2@db/x' })).toThrow(expect.objectContaining({ message: expect.not.stringContaining('hunter2') }));
});

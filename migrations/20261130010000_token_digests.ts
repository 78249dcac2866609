import type { Knex } from 'knex';

/**
 * Tokens, codes and session ids stored by their value until now are stored by their SHA-256
 * (src/storage/digested_ids.ts): ids and their `jti` become 'sha256.' + base64url digest, as are
 * the consumed markers of such artifacts and the session id an Interaction names. Written out here
 * rather than imported, so that this migration keeps doing what it did when the list changes.
 * Redis keys are not rewritten: the short-lived artifacts there (sessions, access tokens, codes)
 * stop being found, and expire with their TTLs.
 */
const DIGESTED_MODELS = [
  'Session', 'AuthorizationCode', 'AccessToken', 'ClientCredentials', 'RefreshToken',
  'DeviceCode', 'BackchannelAuthenticationRequest', 'RegistrationAccessToken', 'InitialAccessToken',
];

const digest = (value: string) => `'sha256.' || rtrim(translate(encode(sha256(convert_to(${value}, 'UTF8')), 'base64'), '+/', '-_'), '=')`;

export async function up(knex: Knex): Promise<void> {
  const models = DIGESTED_MODELS.map(() => '?').join(', ');
  await knex.raw(
    `UPDATE oidc_models SET id = ${digest('id')},
       payload = CASE WHEN payload->>'jti' = id THEN jsonb_set(payload, '{jti}', to_jsonb(${digest('id')})) ELSE payload END
     WHERE model IN (${models}) AND id NOT LIKE 'sha256.%'`,
    DIGESTED_MODELS,
  );
  await knex.raw(
    `UPDATE consumed_markers SET id = ${digest('id')} WHERE model IN (${models}) AND id NOT LIKE 'sha256.%'`,
    DIGESTED_MODELS,
  );
  await knex.raw(
    `UPDATE oidc_models SET payload = jsonb_set(payload, '{session,cookie}', to_jsonb(${digest("payload#>>'{session,cookie}'")}))
     WHERE model = 'Interaction' AND payload#>>'{session,cookie}' NOT LIKE 'sha256.%'`,
  );
}

/**
 * A digest cannot be undone. After going back, the digested artifacts are not found (people
 * sign in again, applications get new tokens) and the janitor removes them as they expire.
 */
export async function down(): Promise<void> {}

import type { Knex } from 'knex';

/** oidc-provider's models, signing keys, consumed markers and generated settings. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('oidc_models', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.jsonb('payload').notNullable();
    t.text('grant_id');
    t.text('uid');
    t.text('user_code');
    t.timestamp('expires_at', { useTz: true });
    t.timestamp('consumed_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['model', 'id']);
  });
  await knex.raw('CREATE INDEX oidc_models_grant_id ON oidc_models (model, grant_id) WHERE grant_id IS NOT NULL');
  await knex.raw('CREATE UNIQUE INDEX oidc_models_uid ON oidc_models (model, uid) WHERE uid IS NOT NULL');
  await knex.raw('CREATE UNIQUE INDEX oidc_models_user_code ON oidc_models (model, user_code) WHERE user_code IS NOT NULL');
  await knex.raw('CREATE INDEX oidc_models_expires_at ON oidc_models (expires_at) WHERE expires_at IS NOT NULL');

  // Where a short-lived artifact lives in Redis, its consumption is also decided here, so a
  // Redis failover that loses the write cannot make a used code usable again.
  await knex.schema.createTable('consumed_markers', (t) => {
    t.text('model').notNullable();
    t.text('id').notNullable();
    t.timestamp('consumed_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.primary(['model', 'id']);
  });
  await knex.raw('CREATE INDEX consumed_markers_expires_at ON consumed_markers (expires_at)');

  await knex.schema.createTable('signing_keys', (t) => {
    t.text('kid').primary();
    t.text('purpose').notNullable().checkIn(['main', 'restricted']);
    t.text('alg').notNullable();
    t.jsonb('private_jwk').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('retired_at', { useTz: true });
  });

  await knex.schema.createTable('settings', (t) => {
    t.text('name').primary();
    t.jsonb('value').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['settings', 'signing_keys', 'consumed_markers', 'oidc_models']) {
    await knex.schema.dropTable(table);
  }
}

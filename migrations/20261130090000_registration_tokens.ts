import type { Knex } from 'knex';

/**
 * Dynamic client registration (RFC 7591/7592). `registration_tokens` are the initial access
 * tokens an operator hands out, with what a registration made with one may ask for;
 * `client_registrations` link a registered client to the token that allowed it (its updates are
 * held to the same allowance) and hold its registration access token. Both tokens are stored as
 * digests only (src/storage/digested_ids.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('registration_tokens', (t) => {
    t.text('id').primary();
    t.text('digest').notNullable().unique();
    t.jsonb('kinds').notNullable();
    t.jsonb('scopes').notNullable();
    t.boolean('restricted').notNullable();
    t.boolean('consent_skip').notNullable();
    t.jsonb('organizations').notNullable();
    t.integer('uses_left').notNullable();
    t.timestamp('expires_at', { useTz: true }).notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('created_by').notNullable();
  });
  await knex.schema.createTable('client_registrations', (t) => {
    t.text('client_id').primary();
    t.text('access_digest').notNullable().unique();
    t.timestamp('access_expires_at', { useTz: true }).notNullable();
    t.text('registration_token_id').notNullable().references('registration_tokens.id');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('client_registrations');
  await knex.schema.dropTable('registration_tokens');
}

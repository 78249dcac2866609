import type { Knex } from 'knex';

/** People who sign in (local or CAS), and group membership kept in the database (GROUPS=db). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('accounts', (t) => {
    // The OIDC subject: opaque and stable, never the username (usernames get reassigned).
    t.text('id').primary();
    t.text('username').notNullable().unique();
    t.text('source').notNullable().checkIn(['local', 'cas']);
    t.text('password_hash');
    t.text('email');
    t.boolean('email_verified').notNullable().defaultTo(false);
    t.text('name');
    t.text('given_name');
    t.text('family_name');
    // The identity attributes last seen at login (CAS), so userinfo and refresh work while the user is away.
    t.jsonb('attributes').notNullable().defaultTo('{}');
    t.timestamp('last_login_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.schema.createTable('group_members', (t) => {
    t.text('group_name').notNullable();
    t.text('username').notNullable();
    t.timestamp('added_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['group_name', 'username']);
    t.index(['username']);
  });
  // rate-limiter-flexible's Postgres store (failed sign-ins, when there is no Redis).
  await knex.schema.createTable('rate_limits', (t) => {
    t.string('key', 255).primary();
    t.integer('points').notNullable().defaultTo(0);
    t.bigInteger('expire');
  });
  // Grants are found by account and client so that consent, once given, is remembered across sessions.
  await knex.raw("CREATE INDEX oidc_models_grant_owner ON oidc_models ((payload->>'accountId'), (payload->>'clientId')) WHERE model = 'Grant'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX oidc_models_grant_owner');
  await knex.schema.dropTable('rate_limits');
  await knex.schema.dropTable('group_members');
  await knex.schema.dropTable('accounts');
}

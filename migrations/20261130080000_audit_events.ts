import type { Knex } from 'knex';

/**
 * `gatehouse audit`: security events, who caused them and to whom. Append-only; the janitor
 * removes rows older than AUDIT_RETENTION_DAYS, oldest first, by the `at` index.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('audit_events', (t) => {
    t.bigIncrements('id');
    t.timestamp('at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.text('event').notNullable();
    t.text('actor').notNullable();
    t.text('account_id');
    t.text('username');
    t.text('client_id');
    t.text('ip');
    t.jsonb('detail').notNullable().defaultTo('{}');
    t.index(['at']);
    t.index(['account_id', 'at']);
    t.index(['username', 'at']);
    t.index(['client_id', 'at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_events');
}

import type { Knex } from 'knex';

/** Enterprise scopes: a scope backed by membership of a group (`gatehouse scopes define`). */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('enterprise_scopes', (t) => {
    t.text('name').primary();
    t.text('group_name').notNullable();
    t.text('description').notNullable();
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('enterprise_scopes');
}

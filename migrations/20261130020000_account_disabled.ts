import type { Knex } from 'knex';

/** `gatehouse accounts disable`: a disabled account cannot sign in and findAccount no longer finds it. */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.timestamp('disabled_at', { useTz: true });
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('accounts', (t) => {
    t.dropColumn('disabled_at');
  });
}

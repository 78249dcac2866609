import type { Knex } from 'knex';

/** The janitor finds expired sign-in counts by this index, a batch at a time, not by scanning. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE INDEX rate_limits_expire ON rate_limits (expire) WHERE expire IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX rate_limits_expire');
}

import type { Knex } from 'knex';

/**
 * Key rotation without restart: a new key is published at once but signs only from
 * `activates_at`; a key signs until `retired_at` (its successor's `activates_at`) and stays
 * published until every token it signed has expired. Keys made before this were active from
 * creation; of two unretired keys of one purpose and algorithm, the older one retired when
 * the newer one was made.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (t) => {
    t.timestamp('activates_at', { useTz: true });
  });
  await knex.raw('UPDATE signing_keys SET activates_at = created_at');
  await knex.raw(`
    UPDATE signing_keys k SET retired_at = (
      SELECT min(n.created_at) FROM signing_keys n WHERE n.purpose = k.purpose AND n.alg = k.alg AND n.created_at > k.created_at)
    WHERE k.retired_at IS NULL
      AND EXISTS (SELECT 1 FROM signing_keys n WHERE n.purpose = k.purpose AND n.alg = k.alg AND n.created_at > k.created_at)`);
  await knex.schema.alterTable('signing_keys', (t) => {
    t.timestamp('activates_at', { useTz: true }).notNullable().defaultTo(knex.fn.now()).alter();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('signing_keys', (t) => {
    t.dropColumn('activates_at');
  });
}

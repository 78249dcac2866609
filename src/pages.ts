import { fileURLToPath } from 'node:url';
import ejs from 'ejs';

const VIEWS = fileURLToPath(new URL('../views/', import.meta.url));

/** Renders views/NAME.ejs inside views/layout.ejs. EJS escapes every `<%= %>` value. */
export async function renderPage(name: string, data: Record<string, unknown> & { title: string }): Promise<string> {
  const body = await ejs.renderFile(`${VIEWS}${name}.ejs`, data, { async: true, cache: true });
  return ejs.renderFile(`${VIEWS}layout.ejs`, { ...data, body }, { async: true, cache: true });
}

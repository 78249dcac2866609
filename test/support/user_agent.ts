import { Agent } from 'undici';

/**
 * A browser without rendering, for flows run many times (concurrency, PKCE and redirect rules):
 * it keeps cookies by path, follows redirects by hand and submits the pages' forms the way a
 * person's browser would. The real browser (Chromium) drives the same pages in test/e2e.
 */
interface Cookie {
  value: string;
  path: string;
}

export type Step =
  | { kind: 'page'; url: string; status: number; headers: Headers; html: string }
  | { kind: 'callback'; url: string };

export type Page = Extract<Step, { kind: 'page' }>;

/** The step as a page, or a failed test naming where the browser went instead. */
export function page(step: Step): Page {
  if (step.kind !== 'page') throw new Error(`expected a page, got a redirect to ${step.url}`);
  return step;
}

export class UserAgent {
  readonly #cookies = new Map<string, Cookie>();
  readonly #stopAt: string[];
  #dispatcher: Agent | undefined;
  #forwardedFor: Record<string, string> = {};
  #language: Record<string, string> = {};

  /** Stops following redirects at the client's redirect URI (or any of the given URL prefixes). */
  constructor(...stopAt: string[]) {
    this.#stopAt = stopAt;
  }

  /**
   * Sends every request from this loopback address (127.0.0.2, say), as a person on another
   * machine would: Gatehouse sees it as the client address without any forwarded header.
   */
  from(localAddress: string): this {
    this.#dispatcher = new Agent({ localAddress });
    return this;
  }

  /**
   * Sends every request as a proxy in front of Gatehouse (TRUST_PROXY=1) would pass it on: with
   * X-Forwarded-For naming this client address, which may be any IPv4 or IPv6 address.
   */
  forwardedFor(address: string): this {
    this.#forwardedFor = { 'x-forwarded-for': address };
    return this;
  }

  /** Sends Accept-Language with every request, as a browser set to these languages does (`fr-FR,fr;q=0.9`). */
  speaks(acceptLanguage: string): this {
    this.#language = { 'accept-language': acceptLanguage };
    return this;
  }

  /** Starts at a URL (e.g. an authorization request) and follows redirects until a page or the callback. */
  async open(url: string): Promise<Step> {
    return this.#follow(await this.#request(url, { method: 'GET' }), url);
  }

  /** Opens an authorization request and signs in on the login page it leads to. */
  async signIn(url: string, username: string, password: string): Promise<Step> {
    return this.submit(await this.open(url), '/login', { username, password });
  }

  /** Submits the form whose action ends with `actionSuffix` on the page, with extra fields. */
  async submit(page: Step, actionSuffix: string, fields: Record<string, string> = {}): Promise<Step> {
    if (page.kind !== 'page') throw new Error(`expected a page, got ${page.url}`);
    const form = findForm(page.html, actionSuffix);
    const url = new URL(form.action, page.url).toString();
    const body = new URLSearchParams({ ...form.hidden, ...fields });
    const response = await this.#request(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    return this.#follow(response, url);
  }

  /** Follows the link named `text` on the page, as a click would. */
  async click(page: Step, text: string): Promise<Step> {
    if (page.kind !== 'page') throw new Error(`expected a page, got ${page.url}`);
    const link = [...page.html.matchAll(/<a\b[^>]*href="([^"]+)"[^>]*>([\s\S]*?)<\/a>/g)].find((match) => decodeEntities(match[2]!.trim()) === text);
    if (!link) throw new Error(`no link "${text}" on the page:\n${page.html}`);
    return this.open(new URL(decodeEntities(link[1]!), page.url).toString());
  }

  async #follow(response: Response, url: string): Promise<Step> {
    let current = response;
    let currentUrl = url;
    for (let hops = 0; hops < 10; hops += 1) {
      const location = current.headers.get('location');
      if (current.status < 300 || current.status >= 400 || !location) {
        return { kind: 'page', url: currentUrl, status: current.status, headers: current.headers, html: await current.text() };
      }
      await current.arrayBuffer();
      currentUrl = new URL(location, currentUrl).toString();
      if (this.#stopAt.some((prefix) => currentUrl.startsWith(prefix))) return { kind: 'callback', url: currentUrl };
      current = await this.#request(currentUrl, { method: 'GET' });
    }
    throw new Error('too many redirects');
  }

  /** Keeps the cookies a response fetched some other way set (e.g. one sent with a Host header fetch will not send). */
  remember(setCookies: string[]): void {
    for (const header of setCookies) this.#store(header);
  }

  /** The Cookie header this browser sends to a URL's path. */
  cookieHeader(url: string): string {
    const { pathname } = new URL(url);
    return [...this.#cookies].filter(([, c]) => pathname.startsWith(c.path)).map(([name, c]) => `${name}=${c.value}`).join('; ');
  }

  async #request(url: string, init: RequestInit): Promise<Response> {
    const cookie = this.cookieHeader(url);
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: { accept: 'text/html', ...this.#forwardedFor, ...this.#language, ...(init.headers as Record<string, string>), ...(cookie ? { cookie } : {}) },
      ...(this.#dispatcher ? { dispatcher: this.#dispatcher } : {}),
    } as RequestInit);
    for (const header of response.headers.getSetCookie()) this.#store(header);
    return response;
  }

  #store(header: string): void {
    const [pair, ...attributes] = header.split(';').map((part) => part.trim());
    const [name, ...value] = pair!.split('=');
    const attr = (key: string) => attributes.find((a) => a.toLowerCase().startsWith(`${key}=`))?.split('=')[1];
    const expired = attr('max-age') === '0' || (attr('expires') && new Date(attr('expires')!).getTime() < Date.now());
    if (expired) this.#cookies.delete(name!);
    else this.#cookies.set(name!, { value: value.join('='), path: attr('path') ?? '/' });
  }
}

/** The action and hidden fields of the form posting to `…actionSuffix` on a page. */
export function findForm(html: string, actionSuffix: string): { action: string; hidden: Record<string, string> } {
  for (const match of html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)) {
    const action = decodeEntities(match[1]!);
    if (!action.endsWith(actionSuffix)) continue;
    const hidden: Record<string, string> = {};
    for (const input of match[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)) hidden[input[1]!] = decodeEntities(input[2]!);
    return { action, hidden };
  }
  throw new Error(`no form posting to …${actionSuffix} on the page:\n${html}`);
}

function decodeEntities(text: string): string {
  return text.replace(/&amp;/g, '&').replace(/&#39;/g, "'").replace(/&quot;/g, '"').replace(/&lt;/g, '<').replace(/&gt;/g, '>');
}

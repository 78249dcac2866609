import Router from '@koa/router';
import { errors, type Provider } from 'oidc-provider';
import type { Context, Middleware } from 'koa';
import type { Stores } from '../storage/adapter_router.ts';
import type { AccountStore } from '../storage/accounts.ts';
import type { AuditWriter } from '../storage/audit_log.ts';
import { endSessionsOf, forgetSessionRecords } from '../storage/account_sessions.ts';
import { revokeGrant } from '../storage/grant_revocation.ts';
import { endSession, type Session } from '../provider/end_session.ts';
import { checkedForm as checkedPost, csrfToken } from '../interactions/csrf.ts';
import { renderPage } from '../pages.ts';
import { pageMessages } from '../i18n/page_messages.ts';
import { explained } from '../i18n/explained_error.ts';
import type { Messages } from '../i18n/messages.ts';
import { ACCOUNT_PAGE_CLIENT_ID, ACCOUNT_PATH, accountSignInUrl } from './page_client.ts';
import type { AccountActivity } from './activity.ts';
import { liveSessionsOf } from './live_sessions.ts';
import { TtlCache } from '../ttl_cache.ts';
import { removeAccess, type Person } from './remove_access.ts';
import { yourApps } from './your_apps.ts';
import { deviceName } from './device.ts';

export interface AccountPageDeps {
  provider: Provider;
  issuer: string;
  stores: Stores;
  accounts: AccountStore;
  audit: AuditWriter;
  activity: AccountActivity;
  /** The description a person reads for a scope, as on the consent page. */
  describeScope(name: string, messages: Messages): Promise<string>;
  /** Key of the forms' CSRF tokens (the interaction pages' key, bound here to the session). */
  csrfKey: string;
}

interface SignedIn {
  session: Session;
  person: Person & { name: string | null };
}

/**
 * /account: what the signed-in person allowed and where they are signed in, with the buttons to
 * take either back. Every change is a POST with a CSRF token bound to the session, and acts
 * only on the session's own person: a form names a client or a session record, which are
 * looked up among this person's alone.
 */
/**
 * A person's sessions with no record (signed in before the account page existed) are found only
 * by reading every session in the store, which in Redis is a SCAN of the whole key space (~1 s
 * for 100,000 sessions). Every later sign-in leaves a record, so one such sweep per person finds
 * all there will ever be: an hour's cap keeps "Sign out everywhere" from being a way to make
 * Gatehouse scan Redis at will.
 */
const UNRECORDED_SWEEP_SECONDS = 3600;

export function accountRoutes(deps: AccountPageDeps): Router {
  const router = new Router({ prefix: ACCOUNT_PATH });
  router.use(noStore);
  const unrecordedSwept = new TtlCache<number>('account_unrecorded_sessions_swept', UNRECORDED_SWEEP_SECONDS);

  router.get('/', async (ctx) => {
    const signedIn = await signedInPerson(ctx, deps);
    if (!signedIn) return startSignIn(ctx, deps);
    const { session, person } = signedIn;
    // Back from signing in: the account page's grant and code are of no further use (page_client.ts).
    if (ctx.querystring) {
      const grantId = session.authorizations?.[ACCOUNT_PAGE_CLIENT_ID]?.grantId;
      if (grantId) await revokeGrant(deps.stores, grantId);
      return seeOther(ctx, ACCOUNT_PATH);
    }
    await deps.activity.sessionUsed(ctx, session);
    const messages = pageMessages(ctx);
    const [apps, sessions] = await Promise.all([
      yourApps(deps, person.id, messages),
      liveSessionsOf(deps.provider, deps.stores.db, person.id),
    ]);
    ctx.type = 'html';
    ctx.body = await renderPage('account', messages, {
      title: messages.t('account.title'),
      wide: true,
      person,
      csrf: csrfToken(deps.csrfKey, { session: session.uid }),
      apps,
      sessions: sessions.map(({ record }) => ({
        id: record.id,
        device: deviceName(record.userAgent, messages),
        ip: record.ip,
        lastActiveAt: record.lastActiveAt,
        signedInAt: record.signedInAt,
        current: record.sessionUid === session.uid,
      })),
      formatTime: timeFormat(messages),
    });
  });

  router.post('/apps/remove', async (ctx) => {
    const { person, form } = await checkedForm(ctx, deps);
    const clientId = form.get('client') ?? '';
    if (!clientId || await removeAccess(deps, ctx, person, clientId) === 0) {
      throw explained(new errors.InvalidRequest('no application of this person has that client id'), 'error.accountNoSuchApp');
    }
    seeOther(ctx, ACCOUNT_PATH);
  });

  router.post('/sessions/sign-out', async (ctx) => {
    const { session, person, form } = await checkedForm(ctx, deps);
    const chosen = (await liveSessionsOf(deps.provider, deps.stores.db, person.id)).find(({ record }) => record.id === form.get('session'));
    if (!chosen) throw explained(new errors.InvalidRequest('no live session of this person has that id'), 'error.accountNoSuchSession');
    await endSession(deps.provider, ctx, chosen.session);
    await forgetSessionRecords(deps.stores.db, person.id, [chosen.record.id]);
    if (chosen.session.uid === session.uid) return signedOut(ctx);
    seeOther(ctx, ACCOUNT_PATH);
  });

  router.post('/sessions/sign-out-everywhere', async (ctx) => {
    const { person } = await checkedForm(ctx, deps);
    const sessions = await liveSessionsOf(deps.provider, deps.stores.db, person.id);
    // One at a time: each sends its applications' logout tokens (end_session.ts).
    for (const { session } of sessions) await endSession(deps.provider, ctx, session);
    await forgetSessionRecords(deps.stores.db, person.id, sessions.map(({ record }) => record.id));
    // Any session with no record ends too, without logout tokens.
    await unrecordedSwept.get(person.id, () => endSessionsOf(deps.stores, person.id));
    return signedOut(ctx);
  });

  return router;
}

/** The person this browser's session signed in, if any (and not disabled since). */
async function signedInPerson(ctx: Context, deps: AccountPageDeps): Promise<SignedIn | undefined> {
  const session = await deps.provider.Session.get(ctx);
  if (!session.accountId) return undefined;
  const account = await deps.accounts.findById(session.accountId);
  if (!account || account.disabledAt) return undefined;
  return { session: session as Session, person: { id: account.id, username: account.username, name: account.name } };
}

/**
 * Not signed in: to the usual login, which returns here. Back from it with an error (the person
 * cancelled), or still without a session (the browser refused the cookie), the page says so
 * rather than sending the browser round again.
 */
function startSignIn(ctx: Context, deps: AccountPageDeps): void {
  if (typeof ctx.query.error === 'string') throw explained(new errors.AccessDenied('the sign-in for the account page did not complete'), 'error.accountSignInCancelled');
  if (ctx.query.code !== undefined) throw explained(new errors.InvalidRequest('signed in, but the browser sent no session cookie'), 'error.accountNoCookie');
  seeOther(ctx, accountSignInUrl(deps.issuer));
}

/** A form of this session's account page: a page of another session, or of none, cannot supply its token. */
async function checkedForm(ctx: Context, deps: AccountPageDeps): Promise<SignedIn & { form: URLSearchParams }> {
  const signedIn = await signedInPerson(ctx, deps);
  if (!signedIn) throw explained(new errors.InvalidRequest('the form expired or did not come from this site'), 'error.accountFormExpired');
  return { ...signedIn, form: await checkedPost(ctx, deps.csrfKey, { session: signedIn.session.uid }, 'error.accountFormExpired') };
}

async function signedOut(ctx: Context): Promise<void> {
  const messages = pageMessages(ctx);
  ctx.type = 'html';
  ctx.body = await renderPage('logged_out', messages, { title: messages.t('loggedOut.title'), clientName: '' });
}

function seeOther(ctx: Context, location: string): void {
  ctx.status = 303;
  ctx.redirect(location);
}

/** Every answer here is about one person: no cache keeps it, redirects and errors included (pages get it from security_headers.ts too). */
const noStore: Middleware = async (ctx, next) => {
  ctx.set('Cache-Control', 'no-store');
  await next();
};

/** A time as the page's language writes it, in UTC (the server does not know the person's zone, and the page runs no script). */
function timeFormat(messages: Messages): (at: Date) => string {
  const format = new Intl.DateTimeFormat(messages.lang, { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' });
  return (at) => `${format.format(at)} UTC`;
}

import Router from '@koa/router';
import { errors, type Provider } from 'oidc-provider';
import type { Context } from 'koa';
import type { Config } from '../config.ts';
import type { Logger } from '../log.ts';
import type { AccountStore } from '../storage/accounts.ts';
import { verifyPassword } from '../identity/passwords.ts';
import { casIdentity, casLoginUrl, casValidateTicket } from '../identity/cas_client.ts';
import { checkCsrf, checkedForm as checkedPost, csrfToken } from './csrf.ts';
import { currentInteraction, interactionClient, type InteractionDetails } from './interaction.ts';
import { grantConsent, scopesToApprove } from './consent.ts';
import { TTL } from '../provider/ttl.ts';
import { renderInteractionPage, safeHttpsUri } from './pages.ts';
import { ACCOUNT_PAGE_CLIENT_ID } from '../account/page_client.ts';
import { signOutAndAskWhoSignsIn, switchingAccount } from './switch_account.ts';
import { pageMessages } from '../i18n/page_messages.ts';
import type { Messages } from '../i18n/messages.ts';
import type { LoginLimits } from './login_limits.ts';
import type { CasSessions } from '../storage/cas_sessions.ts';
import { casLogout } from './cas_logout.ts';
import type { Metrics } from '../metrics.ts';
import type { AuditWriter } from '../storage/audit_log.ts';
import { casErrorCode, interactionAudit, passwordFailure } from './audit_events.ts';

export interface InteractionDeps {
  provider: Provider;
  config: Config;
  logger: Logger;
  accounts: AccountStore;
  limits: LoginLimits;
  /** The description a person reads for a scope (catalogue or enterprise), in the page's language. */
  describeScope(name: string, messages: Messages): Promise<string>;
  /** Key of the forms' CSRF tokens. */
  csrfKey: string;
  /** CAS service ticket -> session, for CAS single logout. */
  casSessions: CasSessions;
  /** Counts a sign-in outcome for /metrics. */
  signIn: Metrics['signIn'];
  /** Where sign-ins and consents are recorded (buffered). */
  audit: AuditWriter;
}

/** The pages a person sees between the client's request and the answer: sign in, consent, deny. */
export function interactionRoutes(deps: InteractionDeps): Router {
  const { provider, config } = deps;
  const router = new Router({ prefix: '/interaction/:uid' });

  router.get('/', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    const client = await interactionClient(provider, details);
    if (details.prompt.name === 'login') {
      if (config.identity.kind === 'cas') return ctx.redirect(casLoginUrl(config.identity.casUrl, casService(config, details.uid), switchingAccount(details)));
      return showLogin(ctx, deps, details, client.clientName);
    }
    if (details.prompt.name === 'consent') {
      // First-party clients (--consent skip) are trusted to get what they are allowed to ask for.
      if (client.consent === 'skip') return finish(ctx, deps, { consent: { grantId: await consented(ctx, deps, details, false) } });
      return showConsent(ctx, deps, details, client);
    }
    throw new errors.InvalidRequest(`unsupported interaction prompt ${details.prompt.name}`);
  });

  router.post('/login', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    const form = await checkedForm(ctx, deps, details);
    if (details.prompt.name !== 'login' || config.identity.kind !== 'local') throw new errors.InvalidRequest('no password sign-in is expected here');
    const username = (form.get('username') ?? '').trim();
    const password = form.get('password') ?? '';
    const client = await interactionClient(provider, details);
    const audit = interactionAudit(deps.audit, ctx, details);
    const account = username ? await deps.accounts.findByUsername(username) : undefined;
    // Counted as a failure before the password is checked, so parallel guesses cannot outrun the count.
    const attempt = await deps.limits.reserve(username, ctx.ip);
    if (attempt.retryAfter > 0) {
      deps.signIn('password', 'locked');
      const wait = attempt.retryAfter;
      audit.refused('sign_in.locked_out', account, { method: 'password', retry_after_seconds: wait });
      ctx.set('Retry-After', String(wait));
      return showLogin(ctx, deps, details, client.clientName, {
        username,
        message: (messages) => messages.t('login.tooManyAttempts', { wait: waitText(messages, wait) }),
        status: 429,
      });
    }
    const valid = await verifyPassword(account?.source === 'local' ? account.passwordHash : undefined, password);
    // A disabled account is told nothing more than a wrong password is (no hint it exists).
    if (!account || !valid || account.disabledAt) {
      deps.signIn('password', account && valid ? 'refused' : 'wrong_password');
      deps.logger.info({ event: 'login.failed', ip: ctx.ip, client: details.params.client_id }, 'sign-in failed');
      audit.refused('sign_in.failed', account, { method: 'password', reason: passwordFailure(account, valid) });
      // Said for an unknown user and a wrong password alike, so the page does not reveal who has an account.
      return showLogin(ctx, deps, details, client.clientName, { username, message: (messages) => messages.t('login.badCredentials'), status: 401 });
    }
    await Promise.all([attempt.succeeded(), deps.accounts.recordLocalLogin(account.id)]);
    deps.signIn('password', 'success');
    audit.byPerson('sign_in.succeeded', account, { method: 'password' });
    return finish(ctx, deps, { login: { accountId: account.id, amr: ['pwd'] } });
  });

  router.get('/cas', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    if (details.prompt.name !== 'login' || config.identity.kind !== 'cas') throw new errors.InvalidRequest('no CAS sign-in is expected here');
    const ticket = ctx.query.ticket;
    if (typeof ticket !== 'string' || !ticket) throw new errors.InvalidRequest('CAS returned no ticket');
    const validation = await casValidateTicket(config.identity.casUrl, ticket, casService(config, details.uid), switchingAccount(details));
    const audit = interactionAudit(deps.audit, ctx, details);
    if (!validation.ok) {
      deps.signIn('cas', 'refused');
      audit.refused('sign_in.failed', undefined, { method: 'cas', reason: 'cas_ticket_rejected', cas_error: casErrorCode(validation.code) });
      deps.logger.warn({ event: 'cas.failed', code: validation.code, description: validation.description }, 'CAS ticket validation failed');
      throw new errors.AccessDenied(`CAS sign-in failed (${validation.code})`);
    }
    const account = await deps.accounts.recordCasLogin(validation.user, casIdentity(validation.attributes));
    deps.signIn('cas', account.disabledAt ? 'refused' : 'success');
    if (account.disabledAt) {
      audit.refused('sign_in.failed', account, { method: 'cas', reason: 'account_disabled' });
      throw new errors.AccessDenied('this account may not sign in here');
    }
    audit.byPerson('sign_in.succeeded', account, { method: 'cas' });
    // The ticket rides along until the session exists (rememberCasSessions), for single logout.
    return finish(ctx, deps, { login: { accountId: account.id, amr: ['ext'], casTicket: ticket } });
  });

  // CAS posts its single logout request to the service URL of the ticket: this one.
  router.post('/cas', async (ctx) => {
    if (config.identity.kind !== 'cas') throw new errors.InvalidRequest('no CAS sign-in is expected here');
    await casLogout(ctx, deps);
  });

  router.post('/confirm', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    await checkedForm(ctx, deps, details);
    if (details.prompt.name !== 'consent') throw new errors.InvalidRequest('no consent is expected here');
    return finish(ctx, deps, { consent: { grantId: await consented(ctx, deps, details, true) } });
  });

  // "Not you?" is a link on the consent page (its CSRF token in the query, as a form's is in its
  // body: a page elsewhere cannot sign the person out), and answers a form's POST alike.
  const switchAccount = async (ctx: Context, details: InteractionDetails): Promise<void> => {
    if (details.prompt.name !== 'consent') throw new errors.InvalidRequest('no one is signed in here');
    await signOutAndAskWhoSignsIn(provider, ctx, details);
    ctx.status = 303;
    ctx.redirect(`/interaction/${encodeURIComponent(details.uid)}`);
  };
  router.get('/switch-account', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    checkCsrf(deps.csrfKey, { interaction: details.uid }, ctx.query.csrf, 'error.formExpired');
    await switchAccount(ctx, details);
  });
  router.post('/switch-account', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    await checkedForm(ctx, deps, details);
    await switchAccount(ctx, details);
  });

  router.post('/abort', async (ctx) => {
    const details = await currentInteraction(provider, ctx);
    await checkedForm(ctx, deps, details);
    // Cancelling at the login page is no one's refusal yet: only a signed-in person's Deny is recorded.
    if (details.prompt.name === 'consent') {
      interactionAudit(deps.audit, ctx, details).byPerson('consent.refused', await person(deps, details), { scopes: String(details.params.scope ?? '').split(' ') });
    }
    return finish(ctx, deps, { error: 'access_denied', error_description: 'the user denied the request' });
  });

  return router;
}

/** Records the consent (src/interactions/consent.ts) and what it granted; `asked`: false for a client trusted to skip the page. */
async function consented(ctx: Context, deps: InteractionDeps, details: InteractionDetails, asked: boolean): Promise<string> {
  const scopes = await scopesToApprove(deps.provider, details);
  const grantId = await grantConsent(deps.provider, details);
  interactionAudit(deps.audit, ctx, details).byPerson('consent.given', await person(deps, details), { scopes, asked });
  return grantId;
}

/** The signed-in person of an interaction at the consent step, with the username if the account is still there. */
async function person(deps: InteractionDeps, details: InteractionDetails): Promise<{ id: string; username?: string | undefined }> {
  const id = details.session!.accountId;
  return { id, username: (await deps.accounts.findById(id))?.username };
}

/** A wait as a person reads it: minutes up to two hours (the first waits), hours beyond (the day's limit). */
function waitText(messages: Messages, seconds: number): string {
  if (seconds > 2 * 60 * 60) {
    const hours = Math.ceil(seconds / 3600);
    return messages.t(hours > 1 ? 'wait.hours' : 'wait.hour', { count: hours });
  }
  const minutes = Math.ceil(seconds / 60);
  return messages.t(minutes > 1 ? 'wait.minutes' : 'wait.minute', { count: minutes });
}

/** The CAS service URL of an interaction: where CAS sends the browser back with a ticket. */
function casService(config: Config, uid: string): string {
  return `${config.issuer}/interaction/${uid}/cas`;
}

function checkedForm(ctx: Context, deps: InteractionDeps, details: InteractionDetails): Promise<URLSearchParams> {
  return checkedPost(ctx, deps.csrfKey, { interaction: details.uid }, 'error.formExpired');
}

async function finish(ctx: Context, deps: InteractionDeps, result: Parameters<Provider['interactionResult']>[2]): Promise<void> {
  const returnTo = await deps.provider.interactionResult(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
  ctx.status = 303;
  ctx.redirect(returnTo);
}

async function showLogin(
  ctx: Context,
  deps: InteractionDeps,
  details: InteractionDetails,
  clientName: string | undefined,
  state: { username?: string; message?: (messages: Messages) => string; status?: number } = {},
): Promise<void> {
  const messages = pageMessages(ctx, details.params.ui_locales);
  await renderInteractionPage(ctx, 'login', messages, {
    title: messages.t('login.title'),
    uid: details.uid,
    csrf: csrfToken(deps.csrfKey, { interaction: details.uid }),
    // The account page's client is Gatehouse itself: the person is going to their account, in their language.
    clientName: details.params.client_id === ACCOUNT_PAGE_CLIENT_ID ? messages.t('account.title') : clientName ?? String(details.params.client_id),
    username: state.username ?? (typeof details.params.login_hint === 'string' ? details.params.login_hint : ''),
    message: state.message?.(messages) ?? '',
  }, details.params.redirect_uri, state.status);
}

/** The client's fields the consent page shows (oidc-provider's Client, with Gatehouse's metadata). */
type ConsentClient = { clientName?: string | undefined; logoUri?: string | undefined; policyUri?: string | undefined; tosUri?: string | undefined };

async function showConsent(ctx: Context, deps: InteractionDeps, details: InteractionDetails, client: ConsentClient): Promise<void> {
  const messages = pageMessages(ctx, details.params.ui_locales);
  const account = await deps.accounts.findById(details.session!.accountId);
  const scopes = await Promise.all((await scopesToApprove(deps.provider, details)).map(async (name) => ({ name, description: await deps.describeScope(name, messages) })));
  await renderInteractionPage(ctx, 'consent', messages, {
    title: messages.t('consent.title'),
    uid: details.uid,
    csrf: csrfToken(deps.csrfKey, { interaction: details.uid }),
    accountName: account?.name ?? '',
    username: account?.username ?? '',
    clientName: client.clientName ?? String(details.params.client_id),
    logoUri: safeHttpsUri(client.logoUri),
    policyUri: safeHttpsUri(client.policyUri),
    tosUri: safeHttpsUri(client.tosUri),
    // Where the person can take the approval back (the account page).
    accountUrl: `${deps.config.issuer}/account`,
    scopes,
    // What the page promises must hold: a Grant outlives sign-out, and offline access with it.
    rememberedDays: Math.round(TTL.Grant / 86_400),
    offline: scopes.some((scope) => scope.name === 'offline_access'),
  }, details.params.redirect_uri);
}

// A single-page application signing in at Gatehouse with oidc-client-ts (its browser build,
// the global `oidc`). What a user of the app would see is written into #state as JSON, and
// #state's data-status says which step it is at.
const config = await (await fetch('/config.json')).json();

const manager = new oidc.UserManager({
  authority: config.authority,
  client_id: config.clientId,
  redirect_uri: `${location.origin}/callback`,
  post_logout_redirect_uri: `${location.origin}/signed-out`,
  // offline_access: signinSilent then uses the refresh token, not a hidden iframe (whose
  // request would carry no Gatehouse cookie from this other site).
  scope: 'openid profile email offline_access',
  loadUserInfo: true,
  automaticSilentRenew: false,
});

const state = document.getElementById('state');

function show(status, details = {}) {
  state.textContent = JSON.stringify({ status, ...details }, null, 2);
  state.dataset.status = status;
}

function showUser(status, user) {
  show(status, {
    name: user.profile.name,
    email: user.profile.email,
    sub: user.profile.sub,
    scope: user.scope,
    access_token: user.access_token,
    refresh_token: user.refresh_token,
    id_token: user.id_token,
  });
}

function fail(error) {
  show('error', { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
}

// Gatehouse grants offline_access, hence a refresh token, only when the person consents to it
// explicitly (prompt=consent), as OpenID Connect Core 1.0 §11 asks.
document.getElementById('sign-in').onclick = () => manager.signinRedirect({ prompt: 'consent' }).catch(fail);
document.getElementById('renew').onclick = () => {
  show('renewing');
  manager.signinSilent().then((user) => showUser('renewed', user), fail);
};
document.getElementById('sign-out').onclick = () => manager.signoutRedirect().catch(fail);

async function start() {
  if (location.pathname === '/callback') {
    const user = await manager.signinCallback();
    history.replaceState(null, '', '/');
    return showUser('signed-in', user);
  }
  if (location.pathname === '/signed-out') {
    await manager.signoutCallback();
    return show('signed-out');
  }
  const user = await manager.getUser();
  return user ? showUser('signed-in', user) : show('signed-out');
}

start().catch(fail);

/**
 * The English messages of every page, and the source every other language translates. A value
 * may name parameters as {name}; a key ends in `Html` when its parameters are markup the page
 * escapes itself (see messages.ts). The labels DESIGN.md fixes ("Sign in", "Allow", "Deny") are
 * here like any other text: English pages keep them.
 */
export const en = {
  'login.title': 'Sign in',
  'login.leadHtml': 'to continue to {client}',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.cancel': 'Cancel and return to the application',
  'login.badCredentials': 'The username or password is not correct.',
  'login.tooManyAttempts': 'Too many failed attempts. Try again in {wait}.',
  'wait.minute': '{count} minute',
  'wait.minutes': '{count} minutes',
  'wait.hour': '{count} hour',
  'wait.hours': '{count} hours',

  'consent.title': 'Allow access?',
  'consent.signedInAsHtml': 'Signed in as {name} ({username})',
  'consent.signedInAsUsernameHtml': 'Signed in as {username}',
  'consent.notYou': 'Not you?',
  'consent.asksToHtml': '{client} asks to:',
  'consent.clientLinksLabel': 'About the application',
  'consent.policy': 'Privacy policy',
  'consent.terms': 'Terms of service',
  'consent.deny': 'Deny',
  'consent.allow': 'Allow',
  'consent.remembered': 'If you allow, Gatehouse remembers it for {days} days and does not ask again for these.',
  'consent.offline': '{client} keeps this access when you sign out, until those days are over.',
  'consent.withdrawHtml': 'You can remove access at any time at {link}.',

  'logout.title': 'Sign out?',
  'logout.clientAsksHtml': '{client} asks to sign you out.',
  'logout.question': 'Do you want to sign out?',
  'logout.stay': 'Stay signed in',
  'logout.signOut': 'Sign out',

  'loggedOut.title': 'Signed out',
  'loggedOut.heading': 'You are signed out',
  'loggedOut.ofClientHtml': 'You signed out of {client}.',
  'loggedOut.close': 'You can close this window.',

  'formPost.title': 'Returning to the application',
  'formPost.noScript': 'Your browser runs no script on this page: continue to return to the application.',
  'formPost.continue': 'Continue',

  'error.title': 'Something went wrong',
  'error.details': 'Details',
  'error.hint': 'Return to the application you came from and try again.',
  'error.serverError': 'the request could not be completed',
  'error.signInExpired': 'This sign-in has expired or was opened in another browser. Start again from the application.',
  'error.otherSignIn': 'This page does not belong to your current sign-in. Start again from the application.',
  'error.formExpired': 'The form expired or did not come from this site. Start again.',
  // What an OAuth error code means to the person who met it (the protocol's own description follows under Details).
  'error.code.invalid_request': 'The application sent an incomplete or malformed request.',
  'error.code.invalid_client': 'Gatehouse does not know the application that sent you here.',
  'error.code.invalid_redirect_uri': 'The application asked to send you back to an address it has not registered, so Gatehouse did not send you there.',
  'error.code.unauthorized_client': 'This application is not allowed to make this kind of request.',
  'error.code.unsupported_response_type': 'The application asked for something Gatehouse does not offer it.',
  'error.code.invalid_scope': 'The application asked for access it is not allowed to request.',
  'error.code.access_denied': 'Access was not allowed.',
  'error.code.invalid_request_object': 'The application’s signed request could not be accepted.',
  'error.code.invalid_request_uri': 'The application’s request could not be found or has expired.',
  'error.code.temporarily_unavailable': 'Gatehouse cannot complete this right now. Try again in a moment.',
  'error.code.invalid_target': 'The application asked for a service Gatehouse does not issue access to.',

  'account.title': 'Your account',
  'account.signedInAsHtml': 'Signed in as {name} ({username})',
  'account.signedInAsUsernameHtml': 'Signed in as {username}',
  'account.apps': 'Your apps',
  'account.noApps': 'No application can use your account: you have not allowed any, or you removed their access.',
  'account.appCan': 'It can:',
  'account.offline': 'Offline access: it can use your account while you are signed out.',
  'account.allowed': 'Allowed {time}',
  'account.lastUsed': 'last used {time}',
  'account.noUse': 'no use recorded',
  'account.removeAccess': 'Remove access',
  'account.removeAccessOf': 'Remove access for {client}',
  'account.sessions': "Where you're signed in",
  'account.thisBrowser': 'this browser',
  'account.sessionMeta': 'From {ip} · last active {lastActive} · signed in {signedIn}',
  'account.signOut': 'Sign out',
  'account.signOutOf': 'Sign out {device}',
  'account.signOutEverywhere': 'Sign out everywhere',
  'account.signOutHint': 'Signing out ends your Gatehouse sessions and tells the applications that asked to know. An application with offline access keeps it until you remove its access.',
  'account.unknownBrowser': 'Unknown browser',
  'account.deviceOn': '{browser} on {system}',
  'error.accountSignInCancelled': 'You did not sign in. Open your account page again to sign in.',
  'error.accountNoCookie': 'Your browser did not keep the sign-in. Allow cookies for this site and open your account page again.',
  'error.accountFormExpired': 'The form expired or did not come from this site. Open your account page again.',
  'error.accountNoSuchApp': 'None of your applications has that id. Reload your account page.',
  'error.accountNoSuchSession': 'That session is not one of yours, or it has ended already. Reload your account page.',

  'scope.openid': 'Sign you in and know who you are',
  'scope.profile': 'Your name and username',
  'scope.email': 'Your email address',
  'scope.groups': 'The names of the groups you belong to',
  'scope.offline_access': 'Keep access while you are away',
  'scope.read': 'Read data on your behalf',
  'scope.create': 'Create data on your behalf',
  'scope.update': 'Change data on your behalf',
  'scope.delete': 'Delete data on your behalf',
  'scope.auth-none': 'Act as a server, without a signed-in person',
  'scope.user_org': 'Data limited to your organization',
  'scope.course_org': 'Data limited to the organization of a course',
  'scope.login': 'Sign in with your institutional account',
} as const;

export type MessageKey = keyof typeof en;

/** A complete translation: every key of the English catalogue, and no other. */
export type Catalogue = Readonly<Record<MessageKey, string>>;

/** The messages describing a built-in scope (src/policy/scope_catalogue.ts). */
export type ScopeMessageKey = Extract<MessageKey, `scope.${string}`>;

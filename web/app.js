// Entry point: loads the message catalogue, finds out who is signed in,
// and routes `location.hash` to a view. Routes:
//   #/sign-in, #/conversations, #/conversations/<id>,
//   #/conversations/<id>/timeline, #/conversations/<id>/agreement,
//   #/letters/<id>, #/review-queue, #/workers, #/notifications, #/sessions,
//   #/rights (my data rights), the staff's #/rights-requests,
//   family finding: #/cases, #/cases/new/child, #/cases/new/family,
//   #/cases/<id>, #/cases/<id>/edit, #/search[?filters], #/interests,
//   #/statistics, the managers' #/cases/marked and #/audit, the
//   operator's #/admin/organisations and #/admin/key-recoveries,
//   the managers' #/safeguarding-concerns,
//   #/my-profile for a family who keeps its own profile, and the
//   community: #/community, #/community/join, #/community/groups/<id>,
//   #/community/topics/<id>, #/community/search[?q=words],
//   #/community/profile, #/community/members/<id>, #/community/notices and
//   the moderators' #/community/moderation/*
// Four pages have a path of their own, because they are the links of
// emails and their fragment is a token, not a route: /invitation#TOKEN
// (an invitation), /unsubscribe#TOKEN (the end of a news email),
// /community/apply#TOKEN (an application to the community) and
// /recover#TOKEN (a new password after an account recovery).
//
// The signed-in user and the conversation state live only in memory. The
// session itself is an HttpOnly cookie, which scripts cannot read.

import { fetchMe, onUnauthorised, signOut as requestSignOut } from './api.js';
import { Chat } from './chat.js';
import { focusElement } from './dom.js';
import { loadCatalogue, preferredLanguages, t, translateStaticText } from './i18n.js';
import * as accountRecoveryView from './views/account-recovery.js';
import * as adminKeyRecoveriesView from './views/admin-key-recoveries.js';
import * as adminOrganisationsView from './views/admin-organisations.js';
import * as agreementView from './views/agreement.js';
import * as auditView from './views/audit.js';
import * as caseView from './views/case.js';
import * as caseEditView from './views/case-edit.js';
import * as casesView from './views/cases.js';
import * as communityView from './views/community.js';
import * as communityAppealsView from './views/community-appeals.js';
import * as communityConcernsView from './views/community-concerns.js';
import * as communityApplicationsView from './views/community-applications.js';
import * as communityApplyView from './views/community-apply.js';
import * as communityGroupView from './views/community-group.js';
import * as communityJoinView from './views/community-join.js';
import * as communityMemberView from './views/community-member.js';
import * as communityMembershipListView from './views/community-membership-list.js';
import * as communityNoticesView from './views/community-notices.js';
import * as communityProfileView from './views/community-profile.js';
import * as communityReportsView from './views/community-reports.js';
import * as communityRequestsView from './views/community-requests.js';
import * as communitySearchView from './views/community-search.js';
import * as communityTopicView from './views/community-topic.js';
import * as conversationView from './views/conversation.js';
import * as conversationsView from './views/conversations.js';
import { isFamilyAccount } from './views/family-finding.js';
import * as familyProfileView from './views/family-profile.js';
import * as interestsView from './views/interests.js';
import * as invitationView from './views/invitation.js';
import * as letterView from './views/letter.js';
import * as markedCasesView from './views/marked-cases.js';
import * as notFoundView from './views/not-found.js';
import * as notificationsView from './views/notifications.js';
import * as reviewQueueView from './views/review-queue.js';
import * as rightsView from './views/rights.js';
import * as rightsRequestsView from './views/rights-requests.js';
import * as searchView from './views/search.js';
import * as sessionsView from './views/sessions.js';
import * as signInView from './views/sign-in.js';
import * as statisticsView from './views/statistics.js';
import * as timelineView from './views/timeline.js';
import * as unsubscribeView from './views/unsubscribe.js';
import * as workersView from './views/workers.js';

const HOME_ROUTE = '#/conversations';
/** The navigation entry of every community page, and the home of community-only accounts. */
const COMMUNITY_ROUTE = '#/community';
const SIGN_IN_ROUTE = '#/sign-in';
const UUID = '([0-9a-fA-F-]{36})';
/** Pages opened from an email link whose fragment is a token, by path. */
const TOKEN_PAGES = new Map([
  ['/invitation', invitationView],
  ['/unsubscribe', unsubscribeView],
  ['/community/apply', communityApplyView],
  ['/recover', accountRecoveryView],
]);

/** Roles whose holders may supervise contact links, and so review letters. */
const REVIEWER_ROLES = new Set(['practitioner', 'manager']);
/**
 * The role whose holders invite, approve and disable their organisation's
 * workers, and read the safeguarding concerns community moderators pass to it.
 */
const MANAGER_ROLE = 'manager';
/** Roles whose holders work on family-finding cases. */
const CASE_ROLES = REVIEWER_ROLES;
/** The role of the platform operator, who manages organisations and recovers accounts. */
const OPERATOR_ROLE = 'platform_admin';
/**
 * Roles whose holders record rights requests: an organisation's workers,
 * and the platform operator for people with no organisation.
 */
const RIGHTS_DESK_ROLES = new Set(['practitioner', 'manager', OPERATOR_ROLE]);
/** The navigation entry of every family-finding page. */
const FAMILY_FINDING_NAV = '#/cases';
/** The navigation entry of a family's own profile, whose case pages are family-finding routes. */
const FAMILY_PROFILE_NAV = '#/my-profile';
/**
 * Roles of the community only. Someone with no other role, such as an
 * applicant who has no role yet, has no conversations, so their home is
 * the community.
 */
const COMMUNITY_ROLES = new Set(['community_member', 'moderator']);

const ROUTES = [
  { pattern: /^#\/sign-in$/, view: signInView, public: true },
  { pattern: /^#\/conversations$/, view: conversationsView, nav: '#/conversations' },
  {
    pattern: new RegExp(`^#/conversations/${UUID}$`),
    view: conversationView,
    nav: '#/conversations',
  },
  {
    pattern: new RegExp(`^#/conversations/${UUID}/timeline$`),
    view: timelineView,
    nav: '#/conversations',
  },
  {
    pattern: new RegExp(`^#/conversations/${UUID}/agreement$`),
    view: agreementView,
    nav: '#/conversations',
  },
  { pattern: new RegExp(`^#/letters/${UUID}$`), view: letterView, nav: '#/conversations' },
  { pattern: /^#\/review-queue$/, view: reviewQueueView, nav: '#/review-queue' },
  { pattern: /^#\/workers$/, view: workersView, nav: '#/workers' },
  {
    pattern: /^#\/safeguarding-concerns$/,
    view: communityConcernsView,
    nav: '#/safeguarding-concerns',
  },
  { pattern: /^#\/notifications$/, view: notificationsView, nav: '#/notifications' },
  { pattern: /^#\/sessions$/, view: sessionsView, nav: '#/sessions' },
  { pattern: /^#\/rights$/, view: rightsView, nav: '#/rights' },
  { pattern: /^#\/rights-requests$/, view: rightsRequestsView, nav: '#/rights-requests' },
  { pattern: /^#\/cases$/, view: casesView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/cases\/new\/(child|family)$/, view: caseEditView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/cases\/marked$/, view: markedCasesView, nav: FAMILY_FINDING_NAV },
  { pattern: new RegExp(`^#/cases/${UUID}$`), view: caseView, nav: FAMILY_FINDING_NAV },
  { pattern: new RegExp(`^#/cases/${UUID}/edit$`), view: caseEditView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/search(?:\?(.*))?$/, view: searchView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/interests$/, view: interestsView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/statistics$/, view: statisticsView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/audit$/, view: auditView, nav: FAMILY_FINDING_NAV },
  { pattern: /^#\/my-profile$/, view: familyProfileView, nav: FAMILY_PROFILE_NAV },
  {
    pattern: /^#\/admin\/organisations$/,
    view: adminOrganisationsView,
    nav: '#/admin/organisations',
  },
  {
    pattern: /^#\/admin\/key-recoveries$/,
    view: adminKeyRecoveriesView,
    nav: '#/admin/key-recoveries',
  },
  { pattern: /^#\/community\/join$/, view: communityJoinView, public: true, nav: COMMUNITY_ROUTE },
  { pattern: /^#\/community$/, view: communityView, nav: COMMUNITY_ROUTE },
  {
    pattern: new RegExp(`^#/community/groups/${UUID}$`),
    view: communityGroupView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: new RegExp(`^#/community/topics/${UUID}$`),
    view: communityTopicView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: new RegExp(`^#/community/members/${UUID}$`),
    view: communityMemberView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: /^#\/community\/search(?:\?(.*))?$/,
    view: communitySearchView,
    nav: COMMUNITY_ROUTE,
  },
  { pattern: /^#\/community\/profile$/, view: communityProfileView, nav: COMMUNITY_ROUTE },
  { pattern: /^#\/community\/notices$/, view: communityNoticesView, nav: COMMUNITY_ROUTE },
  {
    pattern: /^#\/community\/moderation\/applications$/,
    view: communityApplicationsView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: /^#\/community\/moderation\/reports$/,
    view: communityReportsView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: /^#\/community\/moderation\/appeals$/,
    view: communityAppealsView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: /^#\/community\/moderation\/requests$/,
    view: communityRequestsView,
    nav: COMMUNITY_ROUTE,
  },
  {
    pattern: /^#\/community\/moderation\/membership-list$/,
    view: communityMembershipListView,
    nav: COMMUNITY_ROUTE,
  },
];

const elements = {
  main: document.getElementById('main'),
  nav: document.getElementById('site-nav'),
  reviewQueueItem: document.getElementById('nav-review-queue'),
  workersItem: document.getElementById('nav-workers'),
  concernsItem: document.getElementById('nav-concerns'),
  rightsRequestsItem: document.getElementById('nav-rights-requests'),
  familyFindingItem: document.getElementById('nav-family-finding'),
  organisationsItem: document.getElementById('nav-organisations'),
  keyRecoveriesItem: document.getElementById('nav-key-recoveries'),
  familyProfileItem: document.getElementById('nav-family-profile'),
  userArea: document.getElementById('user-area'),
  userName: document.getElementById('user-name'),
  signOutButton: document.getElementById('sign-out-button'),
  connectionStatus: document.getElementById('connection-status'),
  skipLink: document.getElementById('skip-link'),
};

/** Signed-in user and their chat, both null when signed out. */
let user = null;
let chat = null;
/** Catalogue key of a message for the next sign-in page, such as "you have signed out". */
let pendingNotice = null;
/** Aborts and tears down the view on screen. */
let currentView = null;
let firstRoute = true;
/** Token of an email link, from when it leaves the address bar until its page mounts. */
let linkToken = null;

/** Returns the first page of `signedInUser`: the community for community-only accounts. */
function homeRoute(signedInUser) {
  const roles = signedInUser?.roles ?? [];
  return roles.every((role) => COMMUNITY_ROLES.has(role)) ? COMMUNITY_ROUTE : HOME_ROUTE;
}

function routeFor(hash) {
  for (const route of ROUTES) {
    const match = hash.match(route.pattern);
    if (match) return { ...route, params: match.slice(1) };
  }
  return { view: notFoundView, params: [], public: true };
}

/**
 * Moves the token of an email link (such as an invitation or an account
 * recovery link) from the address bar into memory, so that it is not left
 * in the browser's history.
 */
function takeLinkToken() {
  if (!TOKEN_PAGES.has(location.pathname)) return;
  if (!location.hash || location.hash.startsWith('#/')) return;
  linkToken = location.hash.slice(1);
  history.replaceState(history.state, '', location.pathname);
}

/** Returns the route of the page to show, with the token pages ahead of the hash routes. */
function currentRoute() {
  takeLinkToken();
  const tokenView = TOKEN_PAGES.get(location.pathname);
  if (tokenView) {
    if (!location.hash) {
      const token = linkToken ?? '';
      linkToken = null;
      return { view: tokenView, params: [token], public: true };
    }
    // A page route followed from a token page belongs on the root path.
    history.replaceState(history.state, '', `/${location.hash}`);
  }
  return routeFor(location.hash || (user ? homeRoute(user) : SIGN_IN_ROUTE));
}

function navigate(hash) {
  if (location.hash === hash) render();
  else location.hash = hash;
}

function leaveCurrentView() {
  if (!currentView) return;
  currentView.controller.abort();
  for (const cleanup of currentView.cleanups) cleanup();
  currentView = null;
}

function render() {
  const route = currentRoute();
  if (!user && !route.public) return navigate(SIGN_IN_ROUTE);
  if (user && route.view === signInView) return navigate(homeRoute(user));

  leaveCurrentView();
  const controller = new AbortController();
  const cleanups = [];
  currentView = { controller, cleanups };
  updateNavigation(route.nav);
  elements.main.replaceChildren();

  const notice = pendingNotice;
  pendingNotice = null;
  const ctx = {
    user,
    chat,
    notice,
    signal: controller.signal,
    setTitle: (page) => {
      document.title = t('app.page_title', { page });
    },
    onCleanup: (cleanup) => cleanups.push(cleanup),
    signedIn: (signedInUser, options) => startSession(signedInUser, options),
    signOut,
  };
  const mounted = route.view.mount(elements.main, ctx, route.params);
  Promise.resolve(mounted).catch((error) => console.error('view failed to render', error));

  // Focus follows navigation so screen reader users hear the new page. On
  // first load the browser's own start position is left alone.
  if (!firstRoute && !elements.main.contains(document.activeElement)) {
    focusElement(elements.main.querySelector('h1'));
  }
  firstRoute = false;
}

function updateNavigation(activeHash) {
  const signedIn = user !== null;
  elements.nav.hidden = !signedIn;
  elements.userArea.hidden = !signedIn;
  elements.userName.textContent = signedIn
    ? t('nav.signed_in_as', { name: user.display_name })
    : '';
  const roles = signedIn ? (user.roles ?? []) : [];
  elements.reviewQueueItem.hidden = !roles.some((role) => REVIEWER_ROLES.has(role));
  elements.workersItem.hidden = !roles.includes(MANAGER_ROLE);
  elements.concernsItem.hidden = !roles.includes(MANAGER_ROLE);
  elements.rightsRequestsItem.hidden = !roles.some((role) => RIGHTS_DESK_ROLES.has(role));
  elements.familyFindingItem.hidden = !roles.some((role) => CASE_ROLES.has(role));
  elements.organisationsItem.hidden = !roles.includes(OPERATOR_ROLE);
  elements.keyRecoveriesItem.hidden = !roles.includes(OPERATOR_ROLE);
  const family = signedIn && isFamilyAccount(user);
  elements.familyProfileItem.hidden = !family;
  // A family reaches its case pages from its own profile list.
  const current = family && activeHash === FAMILY_FINDING_NAV ? FAMILY_PROFILE_NAV : activeHash;
  const links = [...elements.nav.querySelectorAll('a'), ...elements.userArea.querySelectorAll('a')];
  for (const link of links) {
    if (link.getAttribute('href') === current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function showConnectionStatus(status) {
  elements.connectionStatus.textContent =
    status === 'reconnecting' ? t('connection.reconnecting') : '';
}

// Returns false once the session is gone. Other failures (network, server
// restart) return true, so the caller keeps trying to reconnect.
async function sessionIsValid() {
  try {
    await fetchMe();
    return true;
  } catch (error) {
    return error.code !== 'auth.required';
  }
}

/**
 * Starts the session of `signedInUser` and, unless `goHome` is false, goes
 * to `route`, which defaults to the user's home.
 */
function startSession(signedInUser, { goHome = true, route = null } = {}) {
  endSession();
  user = signedInUser;
  chat = new Chat(user, { sessionIsValid });
  chat.addEventListener('status', (event) => showConnectionStatus(event.detail));
  chat.start();
  if (goHome) navigate(route ?? homeRoute(user));
}

/** Forgets the user and everything loaded for them. */
function endSession() {
  chat?.stop();
  chat = null;
  user = null;
  showConnectionStatus('stopped');
}

async function signOut() {
  try {
    await requestSignOut();
  } catch (error) {
    // The session may already be gone, and the page signs out either way.
    console.warn('sign-out request failed', error);
  }
  endSession();
  pendingNotice = 'signin.signed_out';
  navigate(SIGN_IN_ROUTE);
}

function onSessionEnded() {
  if (!user) return;
  endSession();
  pendingNotice = 'signin.session_ended';
  navigate(SIGN_IN_ROUTE);
}

async function start() {
  // Before anything waits on the network, so the token leaves the address bar at once.
  takeLinkToken();
  await loadCatalogue(preferredLanguages());
  translateStaticText(document);
  document.title = t('app.name');

  elements.signOutButton.addEventListener('click', signOut);
  // The skip link's #main target would otherwise be read as a route.
  elements.skipLink.addEventListener('click', (event) => {
    event.preventDefault();
    focusElement(elements.main);
  });
  onUnauthorised(onSessionEnded);

  try {
    const me = await fetchMe();
    // Opened on a page of its own, such as a conversation, the page stays there.
    startSession(me.user ?? me, { goHome: false });
  } catch (error) {
    if (error.code !== 'auth.required') console.warn('could not check the session', error);
  }

  window.addEventListener('hashchange', render);
  render();
}

start().catch((error) => console.error('KinLink failed to start', error));

// The session: signing in and out, and the refresh loop -- every POLL_MS while the tab is visible,
// paused while it is hidden (it refreshes at once when shown again). Each completed refresh bumps
// <body data-refreshes>, and <body data-refreshing> tells whether one is running. The hold statistics
// are asked for every STATS_MS only (and after an action, or when the tab is shown again).

import { clearAgents, renderAgents, renderMe } from "./agents.js";
import { api, enc, problemText } from "./api.js";
import { $, el } from "./dom.js";
import { clearCalls, followStatus, renderCalls } from "./callcard.js";
import { clearNotice, say, showSignInError } from "./messages.js";
import { RECENT_HOLDS, clearStats, renderHolds, renderRecent, renderStats } from "./stats.js";
import { exclusive, forgetSession, isAdmin, state, syncBusy } from "./state.js";

const TOKEN_KEY = "callhold.console.token";
const POLL_MS = 2000;
// The hold statistics are totals over every hold on record: the server sums them for each request,
// so they are asked for far less often than the calls -- and at once after an action of this page,
// or when the tab is shown again.
const STATS_MS = 30000;
const TICK_MS = 250; // the hold timers are redrawn this often (the text changes once a second)
const ACTIVE_CALLS = 1000; // the most GET /calls returns
const RECENT_CALLS = 10;
const DAY_MS = 24 * 3600 * 1000;

// -- signing in and out ----------------------------------------------------------------------------

async function signIn(token) {
  const me = await api("GET", "/me", undefined, token);
  state.token = token;
  state.me = me;
  sessionStorage.setItem(TOKEN_KEY, token);
  document.body.classList.toggle("is-admin", isAdmin());
  $("sign-in-error").hidden = true;
  $("token").value = "";
  $("sign-in-view").hidden = true;
  $("console-view").hidden = false;
  $("session").hidden = false;
  renderMe(me);
  startTicker();
  $("main").focus();
  refresh();
}

/** Sign in with `token`, one attempt at a time; a token that fails is not kept (a saved one is forgotten). */
export function trySignIn(token) {
  exclusive("sign-in", async () => {
    try {
      await signIn(token);
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignInError(error);
    }
  });
}

/** Sign in again with the token this tab kept, if any: true if there was one. */
export function resumeSession() {
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) trySignIn(saved);
  return Boolean(saved);
}

/** Forget the token and everything shown; `error` (optional) says why, on the sign-in form. */
export function signOut(error) {
  forgetSession();
  sessionStorage.removeItem(TOKEN_KEY);
  clearCalls();
  clearAgents();
  clearStats();
  for (const form of document.querySelectorAll("form")) form.reset();
  document.body.classList.remove("is-admin");
  document.body.dataset.refreshing = "false";
  clearNotice();
  say("");
  $("updated").textContent = "";
  $("connection").hidden = true;
  $("console-view").hidden = true;
  $("session").hidden = true;
  $("sign-in-view").hidden = false;
  if (error) showSignInError({ title: "Signed out", detail: problemText(error) });
  else $("sign-in-error").hidden = true;
  syncBusy();
  $("token").focus();
}

// -- refreshing ------------------------------------------------------------------------------------

function hidden() {
  return document.visibilityState === "hidden";
}

/** The next refresh in POLL_MS -- none while the tab is hidden (see onVisibilityChange). */
function schedule() {
  clearTimeout(state.pollTimer);
  state.pollTimer = hidden() ? null : setTimeout(refresh, POLL_MS);
}

/** Refresh now (or right after the refresh under way). */
export function refreshSoon() {
  if (state.token === null) return;
  if (state.refreshing) state.again = true;
  else refresh();
}

async function refresh() {
  if (state.token === null) return;
  if (state.refreshing) {
    state.again = true;
    return;
  }
  clearTimeout(state.pollTimer);
  const generation = state.generation;
  const actions = state.actions;
  state.refreshing = true;
  document.body.dataset.refreshing = "true";
  try {
    const admin = isAdmin();
    const statsDue =
      state.stats === null ||
      state.statsDue ||
      state.statsActions !== actions ||
      performance.now() - state.statsAt >= STATS_MS;
    const [me, active, ended, fresh, agents] = await Promise.all([
      api("GET", "/me"),
      api("GET", `/calls?status=active&detail=true&limit=${ACTIVE_CALLS}`),
      // With their legs: how each ended (a customer who was busy, or did not answer).
      api("GET", `/calls?status=ended&detail=true&limit=${RECENT_CALLS}`),
      // The agents' totals only (limit=0: no per-call rows, which the page does not show).
      statsDue ? api("GET", "/stats?limit=0") : Promise.resolve(null),
      admin ? api("GET", "/agents") : Promise.resolve([]),
    ]);
    // The server's time now: its last /stats' as_of, and the time since (the page's clock may differ).
    const stats = fresh || state.stats;
    const elapsed = fresh ? 0 : performance.now() - state.statsAt;
    const since = new Date(Date.parse(stats.as_of) + elapsed - DAY_MS).toISOString();
    // The few latest holds shown, newest first: never the whole day's.
    const holds = await api("GET", `/holds?order=desc&limit=${RECENT_HOLDS}&since=${enc(since)}`);
    if (generation !== state.generation) return;
    if (actions !== state.actions) {
      // An action finished meanwhile: these answers may predate it (a hold shown again after its
      // resume). Drop them and ask again.
      state.again = true;
      return;
    }
    const syncedAt = performance.now();
    state.me = me;
    state.onCall = new Set(active.map((call) => call.agent_id).filter(Boolean));
    renderMe(me);
    renderCalls(active, syncedAt);
    renderRecent(ended);
    followStatus(active, ended);
    if (fresh) {
      Object.assign(state, { stats: fresh, statsAt: syncedAt, statsActions: actions, statsDue: false });
      renderStats(fresh);
    }
    renderHolds(holds);
    if (admin) renderAgents(agents);
    $("connection").hidden = true;
    $("updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
  } catch (error) {
    if (generation !== state.generation) return;
    if (error.status === 401) {
      signOut(error);
      return;
    }
    const box = $("connection");
    box.replaceChildren(
      el("strong", { text: "Not up to date. " }),
      `${problemText(error)} (trying again every ${POLL_MS / 1000} s)`,
    );
    box.hidden = false;
  } finally {
    if (generation === state.generation) {
      state.refreshes += 1;
      document.body.dataset.refreshes = String(state.refreshes);
      state.refreshing = false;
      if (state.again) {
        state.again = false;
        refresh();
      } else {
        document.body.dataset.refreshing = "false";
        schedule();
      }
    }
  }
}

// -- the hold timers, and a hidden tab --------------------------------------------------------------

function tick() {
  const now = performance.now();
  for (const card of state.cards.values()) card.tick(now);
}

function startTicker() {
  if (state.ticker === null && !hidden()) state.ticker = setInterval(tick, TICK_MS);
}

/** A hidden tab asks nothing and redraws nothing: no refresh is scheduled (one under way ends, and
 * an action's still runs), the timers stop. Shown again, it counts its timers on and refreshes at once. */
export function onVisibilityChange() {
  if (state.token === null) return;
  if (hidden()) {
    clearTimeout(state.pollTimer);
    state.pollTimer = null;
    clearInterval(state.ticker);
    state.ticker = null;
  } else {
    startTicker();
    tick();
    state.statsDue = true; // hidden for who knows how long
    refreshSoon();
  }
}

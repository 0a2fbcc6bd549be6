// The console's state, and the requests in flight: one at a time per key, its buttons disabled
// meanwhile; a user's action shows its outcome, then refreshes the page.

import { clearNotice, say, showNotice } from "./messages.js";

export const state = {
  // Kept across sessions: counters that only grow (a test waiting on data-refreshes, or a refresh
  // comparing `actions`, must never see them go back).
  generation: 0, // bumped at sign-out: answers to an earlier session are dropped
  refreshes: 0,
  actions: 0, // actions finished: a refresh that overlapped one is stale, and is done again
  // The session's, forgotten at sign-out (see forgetSession).
  token: null,
  me: null, // GET /me: {admin, agent}
  pollTimer: null,
  ticker: null,
  refreshing: false,
  again: false,
  onCall: new Set(), // ids of the agents with an active call, as of the last refresh
  stats: null, // the last GET /stats, its arrival (performance.now()) and state.actions then
  statsAt: 0,
  statsActions: -1,
  statsDue: true, // asked for on the next refresh whatever its age (a tab shown again)
  busy: new Set(), // keys of the requests in flight (their buttons are disabled)
  cards: new Map(), // call id -> CallCard (see clearCalls)
  agentRows: new Map(), // agent id -> its row in the admin's list (see clearAgents)
};

/** What an action's outcome sets off, plugged in at start by the session module (which imports the
 * views that import this one): `signOut(error)` after a 401, else `refreshSoon()`. */
export const after = { signOut() {}, refreshSoon() {} };

export function isAdmin() {
  return Boolean(state.me && state.me.admin);
}

/** Drop the session: its timers stopped, its fields back to where they start, its requests' answers
 * to be ignored. The views forget what they show (the cards and agent rows) themselves. */
export function forgetSession() {
  state.generation += 1;
  clearTimeout(state.pollTimer);
  clearInterval(state.ticker);
  Object.assign(state, {
    token: null,
    me: null,
    pollTimer: null,
    ticker: null,
    refreshing: false,
    again: false,
    onCall: new Set(),
    stats: null,
    statsAt: 0,
    statsActions: -1,
    statsDue: true,
  });
  state.busy.clear();
}

// -- in-flight requests ----------------------------------------------------------------------------

/** Disable the buttons of the requests in flight (marked data-busy-key), enable the others. */
export function syncBusy() {
  for (const node of document.querySelectorAll("[data-busy-key]")) {
    const busy = state.busy.has(node.dataset.busyKey);
    node.disabled = busy;
    if (busy) node.setAttribute("aria-busy", "true");
    else node.removeAttribute("aria-busy");
  }
}

/** Run `work` unless a request with `key` is in flight; its buttons are disabled until it ends. */
export async function exclusive(key, work) {
  if (state.busy.has(key)) return;
  const generation = state.generation;
  state.busy.add(key);
  syncBusy();
  try {
    await work();
  } finally {
    // A request of a session signed out since is not this session's: its key may be busy again.
    if (generation === state.generation) {
      state.busy.delete(key);
      syncBusy();
    }
  }
}

/** `work()` as the user's action `what`: its outcome shown (success in the status line, an API
 * error as its problem's title and detail), then the page refreshed. True if it succeeded. `work`
 * returns the message, or {message, about}: the call it is about, which the status line follows. */
export async function act(key, what, work) {
  let succeeded = false;
  await exclusive(key, async () => {
    const generation = state.generation;
    try {
      const outcome = await work().finally(() => {
        state.actions += 1;
      });
      if (generation !== state.generation) return;
      succeeded = true;
      clearNotice();
      if (typeof outcome === "string") say(outcome);
      else say(outcome.message, outcome.about);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 401) {
        after.signOut(error);
        return;
      }
      showNotice(what, error);
    }
    after.refreshSoon();
  });
  return succeeded;
}

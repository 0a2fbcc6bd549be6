// callhold agent console: sign in with an API token, watch your calls, hold and resume them.
//
// Everything on the page comes from callhold's JSON API (/api/v1, bearer token) and is put into
// the page with textContent and DOM APIs only -- never as markup. The token lives in this tab's
// sessionStorage until sign-out. The page refreshes itself every POLL_MS milliseconds; each
// completed refresh bumps <body data-refreshes>, and <body data-refreshing> tells whether one is
// running (tests and monitors can wait on them).

const API = "/api/v1";
const TOKEN_KEY = "callhold.console.token";
const POLL_MS = 2000;
const TICK_MS = 250; // the hold timers are redrawn this often (the text changes once a second)
const RECENT_CALLS = 10;
const RECENT_HOLDS = 5;
const DAY_MS = 24 * 3600 * 1000;

const ROLES = { customer: "Customer", agent: "Agent", third_party: "Third party" };
const STRATEGIES = { conference: "Conference", legs: "Legs (Dial)" };
const ENDED_LEG = new Set(["completed", "busy", "failed", "no-answer", "canceled"]);
const ON_HOLD = new Set(["holding", "held"]);
const END_REASONS = {
  resumed: "resumed",
  customer_hung_up: "customer hung up",
  agent_hung_up: "agent hung up",
  max_hold_auto_resumed: "resumed at the maximum hold time",
  failed_compensated: "failed, undone",
  call_ended: "call ended",
};

// -- the API -------------------------------------------------------------------------------------

/** An error answer of the API (RFC 9457 problem JSON), or a failure to reach it (status 0). */
class ApiError extends Error {
  constructor(status, problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.status = status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.errors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

function problemOf(response, body) {
  if (body && typeof body === "object" && typeof body.title === "string") {
    return {
      title: body.title,
      detail: typeof body.detail === "string" ? body.detail : "",
      errors: body.errors,
    };
  }
  const title = response.statusText || `HTTP ${response.status}`;
  return { title, detail: `callhold answered ${response.status} without a problem document.` };
}

/** `method path` on the JSON API with the bearer `token`: the decoded JSON (null for no content). */
async function api(method, path, body, token = state.token) {
  const headers = { Accept: "application/json, application/problem+json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: "no-store", credentials: "omit" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(API + path, init);
  } catch (error) {
    throw new ApiError(0, {
      title: "Cannot reach callhold",
      detail: `The request did not get through (${error.message}). Check the connection.`,
    });
  }
  let data = null;
  try {
    const text = await response.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // not JSON (a proxy's error page, say), or the body was cut off
  }
  if (!response.ok) throw new ApiError(response.status, problemOf(response, data));
  return data;
}

const enc = encodeURIComponent;

// -- small DOM helpers (text only, never markup) ---------------------------------------------------

function $(id) {
  return document.getElementById(id);
}

/** A new element: `props` are properties (`text` = textContent, `class` = className, `attrs`). */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "attrs") for (const [name, v] of Object.entries(value)) node.setAttribute(name, v);
    else node[key] = value;
  }
  node.append(...children);
  return node;
}

function part(root, name) {
  return root.querySelector(`[data-part="${name}"]`);
}

/** Show `items` in `container`, in order, each by an entry kept across refreshes in `entries` (its
 * `item[key]` -> the entry, whose element is `entry.node`): `make(item)` builds a missing entry,
 * `fill(entry, item)` updates it. Only what is out of place is moved (moving a node would take the
 * focus away from its fields); the entries of items no longer there are removed. */
function reconcile(container, entries, items, key, make, fill) {
  const seen = new Set();
  items.forEach((item, index) => {
    seen.add(item[key]);
    let entry = entries.get(item[key]);
    if (!entry) {
      entry = make(item);
      entries.set(item[key], entry);
    }
    fill(entry, item);
    const node = container.children[index];
    if (node !== entry.node) container.insertBefore(entry.node, node || null);
  });
  for (const [id, entry] of entries) {
    if (!seen.has(id)) {
      entry.node.remove();
      entries.delete(id);
    }
  }
}

/** `seconds` as m:ss (h:mm:ss from an hour). */
function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

function shortSid(sid) {
  return sid && sid.length > 14 ? `${sid.slice(0, 8)}…${sid.slice(-4)}` : sid || "";
}

// -- state ---------------------------------------------------------------------------------------

const state = {
  token: null,
  me: null, // GET /me: {admin, agent}
  generation: 0, // bumped at sign-out: answers to an earlier session are dropped
  pollTimer: null,
  ticker: null,
  refreshing: false,
  again: false,
  refreshes: 0,
  actions: 0, // actions finished: a refresh that overlapped one is stale, and is done again
  busy: new Set(), // keys of the requests in flight (their buttons are disabled)
  cards: new Map(), // call id -> CallCard
  onCall: new Set(), // ids of the agents with an active call, as of the last refresh
  agentRows: new Map(), // agent id -> its row in the admin's list
};

function isAdmin() {
  return Boolean(state.me && state.me.admin);
}

// -- in-flight requests: one at a time per key, its buttons disabled meanwhile --------------------

function syncBusy() {
  for (const node of document.querySelectorAll("[data-busy-key]")) {
    const busy = state.busy.has(node.dataset.busyKey);
    node.disabled = busy;
    if (busy) node.setAttribute("aria-busy", "true");
    else node.removeAttribute("aria-busy");
  }
}

/** Run `work` unless a request with `key` is in flight; its buttons are disabled until it ends. */
async function exclusive(key, work) {
  if (state.busy.has(key)) return;
  const generation = state.generation;
  state.busy.add(key);
  syncBusy();
  try {
    await work();
  } finally {
    state.busy.delete(key);
    if (generation === state.generation) syncBusy();
  }
}

/** `work()` as the user's action `what`: its outcome shown (success in the status line, an API
 * error as its problem's title and detail), then the page refreshed. True if it succeeded. */
async function act(key, what, work) {
  let succeeded = false;
  await exclusive(key, async () => {
    const generation = state.generation;
    try {
      const message = await work().finally(() => {
        state.actions += 1;
      });
      if (generation !== state.generation) return;
      succeeded = true;
      clearNotice();
      say(message);
    } catch (error) {
      if (generation !== state.generation) return;
      if (error.status === 401) {
        signOut(error);
        return;
      }
      showNotice(what, error);
    }
    refreshSoon();
  });
  return succeeded;
}

// -- messages --------------------------------------------------------------------------------------

function say(message) {
  $("status").textContent = message || "";
}

function showNotice(context, error) {
  $("notice-context").textContent = context ? `${context}: ` : "";
  $("notice-title").textContent = error.title || error.message || "Error";
  $("notice-detail").textContent = error.detail ? ` — ${error.detail}` : "";
  const list = $("notice-errors");
  list.replaceChildren(
    ...(error.errors || []).map((item) => {
      const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body").join(".") : "";
      return el("li", { text: where ? `${where}: ${item.msg}` : String(item.msg) });
    }),
  );
  $("notice").hidden = false;
  say("");
}

function clearNotice() {
  $("notice").hidden = true;
}

function problemText(error) {
  const title = error.title || error.message || "Error";
  return error.detail ? `${title} — ${error.detail}` : title;
}

// -- signing in and out ----------------------------------------------------------------------------

function showSignInError(error) {
  const box = $("sign-in-error");
  box.replaceChildren(el("strong", { text: error.title }), error.detail ? ` — ${error.detail}` : "");
  box.hidden = false;
}

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
  state.ticker = setInterval(tick, TICK_MS);
  $("main").focus();
  refresh();
}

/** Sign in with `token`, one attempt at a time; a token that fails is not kept (a saved one is forgotten). */
function trySignIn(token) {
  exclusive("sign-in", async () => {
    try {
      await signIn(token);
    } catch (error) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignInError(error);
    }
  });
}

/** Forget the token and everything shown; `error` (optional) says why, on the sign-in form. */
function signOut(error) {
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
  });
  state.busy.clear();
  sessionStorage.removeItem(TOKEN_KEY);
  for (const card of state.cards.values()) card.root.remove();
  state.cards.clear();
  state.agentRows.clear();
  delete $("dial-agent").dataset.agents;
  for (const id of ["recent", "holds", "agents", "agent-stats"]) $(id).replaceChildren();
  for (const form of document.querySelectorAll("form")) form.reset();
  document.body.classList.remove("is-admin");
  document.body.dataset.refreshing = "false";
  clearNotice();
  say("");
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

function schedule() {
  clearTimeout(state.pollTimer);
  state.pollTimer = setTimeout(refresh, POLL_MS);
}

/** Refresh now (or right after the refresh under way). */
function refreshSoon() {
  if (state.token === null) return;
  if (state.refreshing) state.again = true;
  else refresh();
}

async function detailOrNothing(id) {
  try {
    return await api("GET", `/calls/${enc(id)}`);
  } catch (error) {
    if (error.status === 403 || error.status === 404) return null; // handed elsewhere, or gone
    throw error;
  }
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
    const [me, active, ended, stats, agents] = await Promise.all([
      api("GET", "/me"),
      api("GET", "/calls?status=active&limit=1000"),
      api("GET", `/calls?status=ended&limit=${RECENT_CALLS}`),
      api("GET", "/stats"),
      admin ? api("GET", "/agents") : Promise.resolve([]),
    ]);
    const since = new Date(Date.parse(stats.as_of) - DAY_MS).toISOString();
    const [details, holds] = await Promise.all([
      Promise.all(active.map((call) => detailOrNothing(call.id))),
      api("GET", `/holds?since=${enc(since)}`),
    ]);
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
    renderCalls(details.filter(Boolean), syncedAt);
    renderRecent(ended);
    renderStats(stats, holds);
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

function tick() {
  const now = performance.now();
  for (const card of state.cards.values()) card.tick(now);
}

// -- who is signed in, and availability ------------------------------------------------------------

function renderMe(me) {
  const switchButton = $("availability");
  if (me.admin) {
    $("who-name").textContent = "Admin";
    $("who-detail").textContent = "every agent's calls";
    switchButton.hidden = true;
    return;
  }
  const agent = me.agent;
  $("who-name").textContent = agent.name;
  $("who-detail").textContent = `${agent.id} · ${agent.endpoint} · ${agentState(agent)}`;
  switchButton.hidden = false;
  // The switch is the agent's own choice (taking calls, or away), not whether it is free right now:
  // an agent on a call is taking calls, and switching off means "no customer after this one".
  switchButton.setAttribute("aria-checked", String(!agent.away));
  switchButton.dataset.agentId = agent.id;
}

/** An agent's state in a few words: its own choice (away or not), and whether it has a call. */
function agentState(agent) {
  const onCall = state.onCall.has(agent.id);
  if (agent.away) return onCall ? "on a call, away after it" : "away";
  if (agent.available) return "available";
  if (!onCall && agent.placing_to) return `calling ${agent.placing_to}`;
  return onCall ? "on a call" : "not available";
}

async function setAvailable(agentId, available, key) {
  await act(key, available ? "Taking calls" : "Going away", async () => {
    const hadCall = state.onCall.has(agentId);
    const agent = await api("PATCH", `/agents/${enc(agentId)}`, { available });
    if (state.me && state.me.agent && state.me.agent.id === agent.id) {
      state.me.agent = agent;
      renderMe(state.me);
    }
    const who = isAdmin() ? agent.name : "You";
    const verb = isAdmin() ? "is" : "are";
    if (agent.away) {
      const when = hadCall ? " after this call" : "";
      return `${who} ${verb} away: no customer will be handed over${when} until switched back.`;
    }
    if (agent.available) return `${who} ${verb} available for calls.`;
    return hadCall
      ? `${who} ${verb} taking calls, on a call now: the next customer comes when it ends.`
      : `${who} ${verb} taking calls: a waiting customer was handed over.`;
  });
}

// -- calls -------------------------------------------------------------------------------------------

/** One active call on the page: built once (its form fields survive refreshes), updated in place. */
class CallCard {
  constructor(id) {
    this.id = id;
    this.root = $("call-template").content.firstElementChild.cloneNode(true);
    this.root.dataset.callId = id;
    this.legRows = new Map();
    this.focusWanted = null; // a button to focus once it shows (see keepFocus)
    this.hold = null; // the open hold: {id, state, seconds (at syncedAt), syncedAt, shown}
    this.detail = null;
    const holdKey = `hold:${id}`;
    part(this.root, "hold").dataset.busyKey = holdKey;
    part(this.root, "resume").dataset.busyKey = holdKey;
    part(this.root, "add-party").dataset.busyKey = `party:${id}`;
    part(this.root, "hold-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.holdCall(event.currentTarget);
    });
    part(this.root, "resume").addEventListener("click", () => this.resumeCall());
    part(this.root, "party-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.addParty(event.currentTarget);
    });
  }

  get node() {
    return this.root;
  }

  update(detail, syncedAt) {
    this.detail = detail;
    const root = this.root;
    root.setAttribute("aria-label", `Call from customer ${detail.customer_call_sid}`);
    const customer = part(root, "customer");
    customer.textContent = detail.customer_number || detail.customer_call_sid;
    customer.title = detail.customer_call_sid;
    part(root, "strategy").textContent = STRATEGIES[detail.strategy] || detail.strategy;
    part(root, "agent").textContent = detail.agent_id ? `Agent ${detail.agent_id}` : "No agent yet";
    part(root, "started").textContent = `Started ${time(detail.created_at)}`;
    this.applyHold(detail.hold, syncedAt);
    this.renderLegs(detail);
    const conference = detail.strategy === "conference";
    part(root, "party-form").hidden = !conference;
    part(root, "legs-note").hidden = conference;
    this.applyFocus();
  }

  /** Show `hold` (a HoldOut, or null): its state, and a live timer while the customer is held. */
  applyHold(hold, syncedAt) {
    const open = hold && hold.state !== "ended" ? hold : null;
    const shown = this.hold && open && this.hold.id === open.id ? this.hold.shown : 0;
    this.hold = open
      ? { id: open.id, state: open.state, seconds: open.duration_seconds, syncedAt, shown }
      : null;
    const reason = part(this.root, "reason");
    reason.textContent = open && open.reason ? `Reason: ${open.reason}` : "";
    const onHold = Boolean(open && ON_HOLD.has(open.state));
    part(this.root, "hold-form").hidden = Boolean(open);
    part(this.root, "resume").hidden = !onHold;
    this.root.classList.toggle("is-held", onHold);
    this.tick(syncedAt);
  }

  tick(now) {
    const box = part(this.root, "state");
    const text = part(this.root, "state-text");
    let kind;
    let label;
    if (this.hold && this.hold.state === "held") {
      // Counted on from the server's figure at the last refresh. A refresh that sets the count back
      // by less than a second (the time the answer took to arrive) is absorbed, so the timer never
      // ticks backwards; a larger difference is the server correcting us, and wins.
      const counted = this.hold.seconds + (now - this.hold.syncedAt) / 1000;
      const seconds = this.hold.shown - counted < 1 ? Math.max(this.hold.shown, counted) : counted;
      this.hold.shown = seconds;
      kind = "held";
      label = `On hold for ${clock(seconds)}`;
    } else if (this.hold && this.hold.state === "holding") {
      kind = "holding";
      label = "Putting on hold…";
    } else if (this.hold && this.hold.state === "resuming") {
      kind = "resuming";
      label = "Taking off hold…";
    } else {
      const agentLeg = this.detail ? this.detail.legs.find((leg) => leg.role === "agent") : null;
      if (agentLeg && agentLeg.status === "in-progress") {
        kind = "connected";
        label = "Connected";
      } else if (agentLeg && !ENDED_LEG.has(agentLeg.status)) {
        kind = "waiting";
        label = "Ringing the agent…";
      } else {
        kind = "waiting";
        label = "Waiting for an agent";
      }
    }
    box.dataset.state = kind;
    if (text.textContent !== label) text.textContent = label;
  }

  renderLegs(detail) {
    const conference = detail.strategy === "conference";
    const fill = (row, leg) => {
      const ended = ENDED_LEG.has(leg.status);
      const role = ROLES[leg.role] || leg.role;
      row.node.classList.toggle("is-ended", ended);
      row.role.textContent = role;
      row.status.textContent = leg.status;
      row.status.dataset.status = leg.status;
      const audio = [leg.muted ? "Muted" : null, leg.on_hold ? "On hold" : null].filter(Boolean);
      row.audio.textContent = audio.length ? audio.join(", ") : "—";
      const live = conference && !ended;
      row.mute.hidden = !live;
      row.mute.textContent = leg.muted ? "Unmute" : "Mute";
      row.mute.setAttribute("aria-label", `${leg.muted ? "Unmute" : "Mute"} ${role.toLowerCase()}`);
      row.mute.dataset.muted = String(leg.muted);
      row.remove.hidden = !(live && leg.role === "third_party");
      row.remove.setAttribute("aria-label", `Remove ${role.toLowerCase()} ${leg.call_sid}`);
    };
    reconcile(part(this.root, "legs"), this.legRows, detail.legs, "call_sid", (leg) => this.legRow(leg), fill);
  }

  legRow(leg) {
    const sid = leg.call_sid;
    const row = {
      role: el("th", { attrs: { scope: "row" } }),
      status: el("span", { class: "leg-status" }),
      audio: el("td"),
      mute: el("button", { type: "button", class: "button button-small" }),
      remove: el("button", { type: "button", class: "button button-small button-danger", text: "Remove" }),
    };
    row.mute.dataset.busyKey = `leg:${this.id}:${sid}`;
    row.remove.dataset.busyKey = `leg:${this.id}:${sid}`;
    row.mute.addEventListener("click", () => this.mute(sid, row.mute.dataset.muted !== "true"));
    row.remove.addEventListener("click", () => this.removeParty(sid));
    row.node = el(
      "tr",
      {},
      row.role,
      el("td", {}, el("code", { text: sid, title: sid })),
      el("td", {}, row.status),
      row.audio,
      el("td", { class: "leg-actions" }, row.mute, " ", row.remove),
    );
    return row;
  }

  /** Give the focus to the card's `name` button -- once it shows, if the focus is still lost (the
   * button clicked was disabled, then hidden) -- so a keyboard user stays on the call. */
  keepFocus(name) {
    this.focusWanted = name;
    this.applyFocus();
  }

  applyFocus() {
    if (!this.focusWanted) return;
    const active = document.activeElement;
    const lost =
      active === null ||
      active === document.body ||
      (this.root.contains(active) && (active.disabled || active.closest("[hidden]") !== null));
    if (!lost) {
      this.focusWanted = null; // the user has moved on
      return;
    }
    const target = part(this.root, this.focusWanted);
    if (target.closest("[hidden]") === null && !target.disabled) {
      target.focus();
      this.focusWanted = null;
    }
  }

  path(action) {
    return `/calls/${enc(this.id)}/${action}`;
  }

  /** The customer, as an agent knows them: their number, else the call's short SID. */
  who() {
    return (this.detail && this.detail.customer_number) || shortSid(this.id);
  }

  async holdCall(form) {
    const body = {};
    const reason = form.elements.reason.value.trim();
    const music = form.elements.music_url.value.trim();
    if (reason) body.reason = reason;
    if (music) body.music_url = music;
    const held = await act(`hold:${this.id}`, "Hold", async () => {
      const hold = await api("POST", this.path("hold"), body);
      this.applyHold(hold, performance.now());
      form.reset();
      return hold.state === "held"
        ? `Customer ${this.who()} is on hold.`
        : `Putting customer ${this.who()} on hold…`;
    });
    if (held) this.keepFocus("resume");
  }

  async resumeCall() {
    const resumed = await act(`hold:${this.id}`, "Resume", async () => {
      const hold = await api("POST", this.path("resume"));
      this.applyHold(hold, performance.now());
      return `Customer ${this.who()} is back (held for ${clock(hold.duration_seconds)}).`;
    });
    if (resumed) this.keepFocus("hold");
  }

  mute(sid, muted) {
    act(`leg:${this.id}:${sid}`, muted ? "Mute" : "Unmute", async () => {
      const detail = await api("POST", this.path(muted ? "mute" : "unmute"), { call_sid: sid });
      this.update(detail, performance.now());
      return `${muted ? "Muted" : "Unmuted"} ${shortSid(sid)}.`;
    });
  }

  addParty(form) {
    const to = form.elements.to.value.trim();
    act(`party:${this.id}`, "Add a third party", async () => {
      const detail = await api("POST", this.path("participants"), { to });
      this.update(detail, performance.now());
      form.reset();
      return `Dialling ${to} into the call…`;
    });
  }

  removeParty(sid) {
    act(`leg:${this.id}:${sid}`, "Remove a party", async () => {
      await api("DELETE", `/calls/${enc(this.id)}/participants/${enc(sid)}`);
      return `Removed ${shortSid(sid)} from the call.`;
    });
  }
}

function renderCalls(details, syncedAt) {
  reconcile(
    $("calls"),
    state.cards,
    details,
    "id",
    (detail) => new CallCard(detail.id),
    (card, detail) => card.update(detail, syncedAt),
  );
  $("no-calls").hidden = details.length > 0;
  syncBusy();
}

function renderRecent(calls) {
  $("recent").replaceChildren(
    ...calls.map((call) =>
      el(
        "tr",
        {},
        el("td", {}, el("code", { text: call.customer_number || call.customer_call_sid, title: call.customer_call_sid })),
        el("td", { text: STRATEGIES[call.strategy] || call.strategy }),
        el("td", { class: "admin-only", text: call.agent_id || "—" }),
        el("td", { text: time(call.created_at) }),
        el("td", { text: time(call.ended_at) }),
        el("td", { text: call.hold_state || "never held" }),
      ),
    ),
  );
  $("recent-table").hidden = calls.length === 0;
  $("no-recent").hidden = calls.length > 0;
}

// -- statistics ----------------------------------------------------------------------------------------

function renderStats(stats, holds) {
  let totals;
  if (isAdmin()) {
    totals = stats.agents.reduce(
      (sum, a) => ({
        holds: sum.holds + a.holds,
        total_seconds: sum.total_seconds + a.total_seconds,
        longest_seconds: Math.max(sum.longest_seconds, a.longest_seconds),
      }),
      { holds: 0, total_seconds: 0, longest_seconds: 0 },
    );
    $("agent-stats").replaceChildren(
      ...stats.agents.map((a) =>
        el(
          "tr",
          {},
          el("th", { attrs: { scope: "row" }, text: a.agent_id }),
          el("td", { text: String(a.holds) }),
          el("td", { text: clock(a.total_seconds) }),
          el("td", { text: clock(a.longest_seconds) }),
        ),
      ),
    );
    $("agent-stats-table").hidden = stats.agents.length === 0;
  } else {
    const mine = state.me && state.me.agent ? state.me.agent.id : null;
    totals = stats.agents.find((a) => a.agent_id === mine) || {
      holds: 0,
      total_seconds: 0,
      longest_seconds: 0,
    };
  }
  $("stat-holds").textContent = String(totals.holds);
  $("stat-total").textContent = clock(totals.total_seconds);
  $("stat-longest").textContent = clock(totals.longest_seconds);
  const recent = holds.slice(-RECENT_HOLDS).reverse();
  $("holds").replaceChildren(
    ...recent.map((hold) => {
      const how =
        hold.state === "ended" ? END_REASONS[hold.end_reason] || hold.end_reason || "ended" : hold.state;
      return el(
        "li",
        {},
        el("span", { class: "hold-duration", text: clock(hold.duration_seconds) }),
        el("span", { class: "hold-what", text: hold.reason || "no reason given" }),
        el("span", {
          class: "hold-how",
          text: `${how} · ${time(hold.started_at)} · ${shortSid(hold.call_id)}`,
        }),
      );
    }),
  );
  $("no-holds").hidden = recent.length > 0;
}

// -- agents (admin) ------------------------------------------------------------------------------------

function switchTrack() {
  const thumb = el("span", { class: "switch-thumb" });
  return el("span", { class: "switch-track", attrs: { "aria-hidden": "true" } }, thumb);
}

/** An agent's row in the admin's list, built once and updated in place (its switch keeps focus). */
function agentRow(agent) {
  const toggle = el(
    "button",
    { type: "button", class: "switch", attrs: { role: "switch", "aria-checked": "false" } },
    switchTrack(),
  );
  toggle.dataset.busyKey = `availability:${agent.id}`;
  toggle.addEventListener("click", () =>
    setAvailable(agent.id, toggle.getAttribute("aria-checked") !== "true", toggle.dataset.busyKey),
  );
  const row = {
    name: el("span", { class: "agent-name" }),
    detail: el("span", { class: "agent-detail" }),
    toggle,
  };
  row.node = el("li", { class: "agent" }, row.name, row.detail, toggle);
  return row;
}

function renderAgents(agents) {
  reconcile($("agents"), state.agentRows, agents, "id", agentRow, (row, agent) => {
    row.name.textContent = agent.name;
    row.detail.textContent = `${agent.id} · ${agent.endpoint} · ${agentState(agent)}`;
    row.toggle.setAttribute("aria-checked", String(!agent.away));
    row.toggle.setAttribute("aria-label", `${agent.name} taking calls`);
  });
  $("agents-panel").hidden = false;
  $("no-agents").hidden = agents.length > 0;
  // The agent picker is rebuilt only when the agents change: rebuilding would close it under the mouse.
  const select = $("dial-agent");
  const names = JSON.stringify(agents.map((agent) => [agent.id, agent.name]));
  if (select.dataset.agents !== names) {
    const chosen = select.value;
    select.replaceChildren(
      el("option", { value: "", text: "First available agent" }),
      ...agents.map((agent) => el("option", { value: agent.id, text: `${agent.name} (${agent.id})` })),
    );
    select.value = agents.some((agent) => agent.id === chosen) ? chosen : "";
    select.dataset.agents = names;
  }
  syncBusy();
}

// -- placing a call ----------------------------------------------------------------------------------

function placeCall(form) {
  const to = form.elements.to.value.trim();
  const body = { to };
  const agentId = form.elements.agent_id.value;
  if (isAdmin() && agentId) body.agent_id = agentId;
  act("dial", "Place a call", async () => {
    const call = await api("POST", "/calls", body);
    form.elements.to.value = "";
    return `Calling ${to} (call ${shortSid(call.id)})…`;
  });
}

// -- start -------------------------------------------------------------------------------------------

function start() {
  $("sign-in-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const token = $("token").value.trim();
    if (!token) {
      showSignInError({ title: "No token", detail: "Paste your API token first." });
      return;
    }
    trySignIn(token);
  });
  $("sign-out").addEventListener("click", () => signOut());
  $("notice-dismiss").addEventListener("click", clearNotice);
  $("availability").addEventListener("click", (event) => {
    const button = event.currentTarget;
    setAvailable(button.dataset.agentId, button.getAttribute("aria-checked") !== "true", "availability");
  });
  $("dial-form").addEventListener("submit", (event) => {
    event.preventDefault();
    placeCall(event.currentTarget);
  });
  const saved = sessionStorage.getItem(TOKEN_KEY);
  if (saved) {
    trySignIn(saved);
  } else {
    $("token").focus();
  }
}

start();

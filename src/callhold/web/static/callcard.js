// The active calls: one card per call, built once (its form fields survive refreshes) and updated
// in place from the call's detail (the call, its legs and its hold, as GET /calls/{id} gives it).

import { api, enc } from "./api.js";
import { $, el, part, reconcile } from "./dom.js";
import { END_REASONS, STRATEGIES, clock, customerLeg, shortSid, time } from "./format.js";
import { say, statusSubject } from "./messages.js";
import { act, state, syncBusy } from "./state.js";

const ROLES = { customer: "Customer", agent: "Agent", third_party: "Third party" };
const ENDED_LEG = new Set(["completed", "busy", "failed", "no-answer", "canceled"]);
const ON_HOLD = new Set(["holding", "held"]);

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
    // Named after the customer: with several calls on the page, "Hold" alone says not whose.
    const who = this.who();
    part(root, "hold").setAttribute("aria-label", `Hold customer ${who}`);
    part(root, "resume").setAttribute("aria-label", `Resume customer ${who}`);
    part(root, "add-party").setAttribute("aria-label", `Add party to the call with customer ${who}`);
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
      // The latest agent leg (legs come in joining order): after a hand-over, the earlier agent's
      // ended leg stays listed before the one now on the call.
      const agentLeg = this.detail ? this.detail.legs.findLast((leg) => leg.role === "agent") : null;
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
    return this.detail ? customer(this.detail) : shortSid(this.id);
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
      if (hold.state === "held") {
        return { message: `Customer ${this.who()} is on hold.`, about: { callId: this.id } };
      }
      return {
        message: `Putting customer ${this.who()} on hold…`,
        about: { callId: this.id, holdId: hold.id, expect: "held" },
      };
    });
    if (held) this.keepFocus("resume");
  }

  async resumeCall() {
    const resumed = await act(`hold:${this.id}`, "Resume", async () => {
      const hold = await api("POST", this.path("resume"));
      this.applyHold(hold, performance.now());
      // Back only once the hold has ended: a legs resume is under way ("resuming") until the agent's
      // leg has the customer again (followStatus says so then).
      if (hold.state === "ended") {
        return { message: backText(this.who(), hold), about: { callId: this.id } };
      }
      return {
        message: `Taking customer ${this.who()} off hold…`,
        about: { callId: this.id, holdId: hold.id, expect: "ended" },
      };
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

  async removeParty(sid) {
    const removed = await act(`leg:${this.id}:${sid}`, "Remove a party", async () => {
      await api("DELETE", `/calls/${enc(this.id)}/participants/${enc(sid)}`);
      // Gone for Twilio: no second Remove (its status shows "completed" at the next refresh).
      const row = this.legRows.get(sid);
      if (row) row.remove.hidden = true;
      return { message: `Removed ${shortSid(sid)} from the call.`, about: { callId: this.id } };
    });
    // The button clicked is hidden: the keyboard stays on the call rather than falling to <body>.
    if (removed) this.keepFocus("add-party");
  }
}

/** The customer of a call (GET /calls item), as an agent knows them: their number, else the short SID. */
function customer(call) {
  return call.customer_number || shortSid(call.id);
}

function backText(who, hold) {
  return `Customer ${who} is back (held for ${clock(hold.duration_seconds)}).`;
}

/** What has become of the call the status line is about (`about`, see messages.js say) while it is
 * active -- null: nothing new to say. */
function progress(call, about) {
  const who = customer(call);
  const hold = call.hold;
  if (about.holdId && hold && hold.id === about.holdId) {
    if (about.expect === "held" && hold.state === "held") return `Customer ${who} is on hold.`;
    if (hold.state === "ended") {
      return hold.end_reason === "resumed" || hold.end_reason === "max_hold_auto_resumed"
        ? backText(who, hold)
        : `Customer ${who} is off hold: ${END_REASONS[hold.end_reason] || hold.end_reason}.`;
    }
  }
  if (about.expect === "answer") {
    const leg = customerLeg(call);
    if (leg && leg.status === "in-progress") return `${who} answered.`;
  }
  return null;
}

/** How the call the status line was about ended (an ended call, with its legs). */
function endedText(call) {
  const who = customer(call);
  const leg = customerLeg(call);
  switch (leg ? leg.status : null) {
    case "busy":
      return `${who} was busy: the call did not go through.`;
    case "no-answer":
      return `${who} did not answer: the call did not go through.`;
    case "failed":
      return `The call to ${who} failed: it could not be connected.`;
    case "canceled":
      return `The call to ${who} was canceled before it was answered.`;
    default:
      return `The call with customer ${who} has ended.`;
  }
}

/** Keep the status line true to the call it is about (see messages.js say), from a refresh's active
 * calls and latest ended ones (both with their legs): a hold or resume it said was under way, once
 * done; a call being dialled, once answered; and the call's end -- busy or no answer for a customer
 * who never picked up -- once it is no longer active. */
export function followStatus(active, ended) {
  const about = statusSubject();
  if (!about) return;
  const live = active.find((call) => call.id === about.callId);
  if (live) {
    const next = progress(live, about);
    if (next) say(next, { callId: live.id });
    return;
  }
  const over = ended.find((call) => call.id === about.callId);
  say(over ? endedText(over) : ""); // not among the latest ended calls: nothing true left to say
}

/** Show the active calls `details`, as of `syncedAt` (performance.now() when they arrived). */
export function renderCalls(details, syncedAt) {
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

/** Remove every card (at sign-out). */
export function clearCalls() {
  for (const card of state.cards.values()) card.root.remove();
  state.cards.clear();
  $("no-calls").hidden = false;
}

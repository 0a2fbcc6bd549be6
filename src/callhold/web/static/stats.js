// The ended calls, and the hold statistics: the signed-in agent's (the admin's: every agent's, in
// total and one row each), and the latest holds.

import { $, el } from "./dom.js";
import { END_REASONS, OUTCOMES, STRATEGIES, clock, customerLeg, shortSid, time } from "./format.js";
import { isAdmin, state } from "./state.js";

/** How many of the latest holds are shown (and asked for: GET /holds?order=desc&limit=...). */
export const RECENT_HOLDS = 5;

/** Show the ended calls `calls` (GET /calls?status=ended&detail=true), newest first, each with how it
 * ended: a customer who was busy or did not answer reads so. */
export function renderRecent(calls) {
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
        el("td", { text: outcome(call) }),
        el("td", { text: call.hold_state || "never held" }),
      ),
    ),
  );
  $("recent-table").hidden = calls.length === 0;
  $("no-recent").hidden = calls.length > 0;
}

function outcome(call) {
  const leg = customerLeg(call);
  return leg ? OUTCOMES[leg.status] || leg.status : "—";
}

/** Show `stats` (GET /stats: the agents' totals are what is shown). */
export function renderStats(stats) {
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
}

/** Show the latest `holds` (GET /holds?order=desc: newest first). */
export function renderHolds(holds) {
  const recent = holds.slice(0, RECENT_HOLDS);
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

/** Show no call, statistic or hold (at sign-out), as the page starts. */
export function clearStats() {
  $("recent").replaceChildren();
  $("recent-table").hidden = true;
  $("no-recent").hidden = false;
  $("agent-stats").replaceChildren();
  $("agent-stats-table").hidden = true;
  $("stat-holds").textContent = "0";
  $("stat-total").textContent = clock(0);
  $("stat-longest").textContent = clock(0);
  $("holds").replaceChildren();
  $("no-holds").hidden = false;
}

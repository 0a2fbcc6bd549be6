// Agents: who is signed in (and its "Taking calls" switch), and the admin's list of every agent
// with theirs, and the agent picker of the dial form.

import { api, enc } from "./api.js";
import { $, el, reconcile } from "./dom.js";
import { act, isAdmin, state, syncBusy } from "./state.js";

/** Show who holds the token (`me`: GET /me) in the top bar. */
export function renderMe(me) {
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

/** Switch `agentId`'s "Taking calls" to `available`, as the action keyed `key`. */
export async function setAvailable(agentId, available, key) {
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

// -- the admin's list ------------------------------------------------------------------------------

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

/** Show the admin's list of `agents` (GET /agents), and offer them in the dial form. */
export function renderAgents(agents) {
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

/** Show no agent (at sign-out), as the page starts. */
export function clearAgents() {
  state.agentRows.clear();
  $("agents").replaceChildren();
  $("agents-panel").hidden = true;
  $("no-agents").hidden = false;
  const select = $("dial-agent");
  select.replaceChildren(el("option", { value: "", text: "First available agent" }));
  delete select.dataset.agents;
}

// callhold agent console: sign in with an API token, watch your calls, hold and resume them.
//
// Everything on the page comes from callhold's JSON API (/api/v1, bearer token) and is put into
// the page with textContent and DOM APIs only -- never as markup. The token lives in this tab's
// sessionStorage until sign-out. The page refreshes itself every 2 s while it is visible (see
// session.js); each completed refresh bumps <body data-refreshes>, and <body data-refreshing> tells
// whether one is running (tests and monitors can wait on them).
//
// The modules, each served from /console/ (native ES modules, no build step):
//   console.js   this one: the page's own controls wired up, the dial form, the start
//   session.js   signing in and out, the refresh loop, the hold timers, a hidden tab
//   state.js     the console's state; requests in flight (one per key), a user's action
//   api.js       the JSON API client and its problem errors
//   callcard.js  the active calls, one card each (hold, resume, mute, parties)
//   agents.js    who is signed in and their availability; the admin's list of agents
//   stats.js     the ended calls, the hold statistics and the latest holds
//   messages.js  the status line, the notice of a failed action, the sign-in error
//   dom.js       small DOM helpers (text only), and the keyed update of a list
//   format.js    how times, durations, SIDs and strategies read

import { setAvailable } from "./agents.js";
import { api } from "./api.js";
import { $ } from "./dom.js";
import { shortSid } from "./format.js";
import { clearNotice, showSignInError } from "./messages.js";
import { onVisibilityChange, refreshSoon, resumeSession, signOut, trySignIn } from "./session.js";
import { act, after, isAdmin } from "./state.js";

function placeCall(form) {
  const to = form.elements.to.value.trim();
  const body = { to };
  const agentId = form.elements.agent_id.value;
  if (isAdmin() && agentId) body.agent_id = agentId;
  act("dial", "Place a call", async () => {
    const call = await api("POST", "/calls", body);
    form.elements.to.value = "";
    // Followed (callcard.js followStatus): "answered", or busy / no answer once the call is over.
    return {
      message: `Calling ${to} (call ${shortSid(call.id)})…`,
      about: { callId: call.id, expect: "answer" },
    };
  });
}

function start() {
  Object.assign(after, { signOut, refreshSoon });
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
  document.addEventListener("visibilitychange", onVisibilityChange);
  if (!resumeSession()) $("token").focus();
}

start();

// What the page says: the status line (what the last action did), the notice (the problem of a
// failed action, with the API's field errors), and the sign-in form's error.

import { $, el } from "./dom.js";

// What the status line is about, if it is about a call: {callId, holdId?, expect?} (see
// callcard.js followStatus, which keeps it true as the call goes on -- or ends).
let subject = null;

/** Say `message` in the status line; `about` (optional): the call it is about, to be followed. */
export function say(message, about = null) {
  $("status").textContent = message || "";
  subject = message ? about : null;
}

/** The call the status line is about (null: none, or a message about no call). */
export function statusSubject() {
  return subject;
}

/** Show `error` (an ApiError) as the problem of the action `context`. */
export function showNotice(context, error) {
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

export function clearNotice() {
  $("notice").hidden = true;
}

export function showSignInError(error) {
  const box = $("sign-in-error");
  box.replaceChildren(el("strong", { text: error.title }), error.detail ? ` — ${error.detail}` : "");
  box.hidden = false;
}

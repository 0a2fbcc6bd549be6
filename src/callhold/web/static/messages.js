// What the page says: the status line (what the last action did), the notice (the problem of a
// failed action, with the API's field errors), and the sign-in form's error.

import { $, el } from "./dom.js";

export function say(message) {
  $("status").textContent = message || "";
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

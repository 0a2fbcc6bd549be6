// How values from the API read on the page.

export const STRATEGIES = { conference: "Conference", legs: "Legs (Dial)" };

/** Why a hold ended (HoldOut.end_reason), in words. */
export const END_REASONS = {
  resumed: "resumed",
  customer_hung_up: "customer hung up",
  agent_hung_up: "agent hung up",
  max_hold_auto_resumed: "resumed at the maximum hold time",
  failed_compensated: "failed, undone",
  call_ended: "call ended",
};

/** How a call ended, by its customer leg's final status: for an outbound call, whether it was answered. */
export const OUTCOMES = {
  completed: "completed",
  busy: "busy",
  "no-answer": "no answer",
  failed: "failed",
  canceled: "canceled",
};

/** The customer's leg of a call detail (null if not listed). */
export function customerLeg(call) {
  return (call.legs || []).find((leg) => leg.call_sid === call.customer_call_sid) || null;
}

/** `seconds` as m:ss (h:mm:ss from an hour). */
export function clock(seconds) {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

/** An ISO timestamp as a local time of day ("—" for none). */
export function time(iso) {
  if (!iso) return "—";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleTimeString();
}

/** A Call SID shortened to its first 8 and last 4 characters. */
export function shortSid(sid) {
  return sid && sid.length > 14 ? `${sid.slice(0, 8)}…${sid.slice(-4)}` : sid || "";
}

// The JSON API (/api/v1, bearer token), and its errors as RFC 9457 problem documents.

import { state } from "./state.js";

const API = "/api/v1";

/** An error answer of the API (RFC 9457 problem JSON), or a failure to reach it (status 0). */
export class ApiError extends Error {
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
export async function api(method, path, body, token = state.token) {
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

/** A value for a URL path segment or query parameter. */
export const enc = encodeURIComponent;

/** An error (an ApiError, or any other) in one line: its title, then its detail. */
export function problemText(error) {
  const title = error.title || error.message || "Error";
  return error.detail ? `${title} — ${error.detail}` : title;
}

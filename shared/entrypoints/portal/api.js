// The API with the App Service Authentication session cookie: errors come back as
// the contract's {"error": {...}} so the page can show their message as it came.

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || `The service answered ${status}.`);
    this.status = status;
    this.code = error.code || "http_" + status;
    this.guidance = error.guidance || null;
    this.nextAvailableAt = error.next_available_at || null;
    this.requestId = error.request_id || null;
  }
}

async function errorOf(response) {
  try {
    const body = await response.json();
    if (body && body.error) return new ApiError(response.status, body.error);
  } catch {
    // not JSON: fall through to a message built from the status
  }
  return new ApiError(response.status, {});
}

export async function call(method, path, { body, accept } = {}) {
  const headers = { Accept: accept || "application/json" };
  const init = { method, headers, credentials: "same-origin" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, { message: "The service could not be reached. Try again in a moment." });
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function json(method, path, options) {
  const response = await call(method, path, options);
  return response.status === 204 ? null : response.json();
}

// Who is signed in, from the API (GET /api/whoami answers from the principal App
// Service Authentication sends): no token store is needed, unlike /.auth/me.
export async function signedInUser() {
  try {
    const response = await fetch("/api/whoami", { credentials: "same-origin" });
    if (!response.ok) return null;
    return await response.json();
  } catch {
    return null;
  }
}

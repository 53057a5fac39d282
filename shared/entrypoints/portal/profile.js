// My Learn profile: one card per program, pending and credited credit, history.
import { json, ApiError } from "./api.js";
import { h, day, table, notice, showError, confirmAction, frame } from "./dom.js";

const STATE_KEY = "skills-link:program-sign-in";
const END_REASONS = { unlinked: "unlinked", moved: "moved to another organization", user_departed: "removed by an admin" };

function programName(config, id) {
  return (config.programs.find((p) => p.id === id) || { name: id }).name;
}

// The program's sign-in gets a return address, a one-time state kept in this
// browser tab's session (the answer is taken only by the tab that asked for it), and
// a nonce the service issued to this person: the program puts it in its assertion,
// so the assertion links nobody else.
async function startSignIn(program) {
  let issued;
  try {
    issued = await json("POST", "/api/me/links/nonce", { body: { program: program.id } });
  } catch (error) {
    showError(error);
    return;
  }
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  const state = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  sessionStorage.setItem(STATE_KEY, JSON.stringify({ state, program: program.id }));
  const target = new URL(program.sign_in_url, location.origin);
  target.searchParams.set("return_url", new URL("/link-return", location.origin).href);
  target.searchParams.set("state", state);
  target.searchParams.set("nonce", issued.nonce);
  location.assign(target.href);
}

export async function finishSignIn(config) {
  const answer = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", "/"); // the assertion leaves the address bar and history
  const started = JSON.parse(sessionStorage.getItem(STATE_KEY) || "null");
  sessionStorage.removeItem(STATE_KEY);
  if (!started || !answer.get("state") || answer.get("state") !== started.state) {
    return { kind: "error", message: "This sign-in was not started from this page, so nothing was linked. Start again with the Link button." };
  }
  if (!answer.get("assertion")) {
    return { kind: "error", message: answer.get("error") || "The program's sign-in returned no proof of your account, so nothing was linked." };
  }
  try {
    const association = await json("POST", "/api/me/links", {
      body: { program: started.program, assertion: answer.get("assertion") },
    });
    return { kind: "ok", message: `Linked ${programName(config, association.program)} learner ${association.learner_id}. Credit for new completions counts for your organization ${config.limits.credit_delay_days} days after completion.` };
  } catch (error) {
    if (error instanceof ApiError) return { kind: "error", error };
    throw error;
  }
}

function programCard(config, program, entry, rerender) {
  const active = entry && entry.active;
  const limits = config.limits;
  const used = entry ? entry.associations_in_window : 0;
  const body = [h("h3", {}, program.name)];
  const facts = [
    ["Associations used", `${used} of ${limits.max_per_window} in the last ${limits.window_days} days`],
    ["Next new association possible", entry && entry.next_association_available_at ? day(entry.next_association_available_at) : "now"],
  ];
  if (active) {
    facts.unshift(["Learner id", active.learner_id], ["Organization", active.tenant_id], ["Linked since", day(active.started_at)]);
    body.push(h("p", { class: "status linked" }, "Linked"));
  } else {
    body.push(
      h("p", { class: "status" }, "Not linked"),
      h("p", {}, `Link your ${program.name} account so the certifications, assessments and trainings you complete count for your organization, ${limits.credit_delay_days} days after completion. You can associate at most ${limits.max_per_window} times in ${limits.window_days} days, and ${limits.cool_off_days} days must pass between associations.`),
    );
  }
  body.push(h("dl", {}, facts.flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)])));
  if (active) {
    body.push(h("button", {
      type: "button", class: "danger", id: `unlink-${program.id}`,
      onclick: async () => {
        const sure = await confirmAction(
          `Unlink ${program.name}?`,
          `Unlinking stops credit for your organization from new completions. Credentials already credited stay in the Skills Report until the next monthly data refresh. Unlinking does not give an association back: the limits (${limits.max_per_window} in ${limits.window_days} days, ${limits.cool_off_days} days apart) still count.`,
          "Unlink",
        );
        if (!sure) return;
        try {
          await json("DELETE", `/api/me/links/${encodeURIComponent(program.id)}`);
          await rerender({ kind: "ok", message: `Unlinked ${program.name}.` });
        } catch (error) {
          showError(error);
        }
      },
    }, `Unlink ${program.name}`));
  } else if (program.sign_in_url) {
    body.push(h("button", { type: "button", id: `link-${program.id}`, onclick: () => startSignIn(program) }, `Link ${program.name}`));
  } else {
    body.push(h("p", { class: "muted" }, `Linking ${program.name} is not available: this service has no sign-in address for the program. Ask your administrator.`));
  }
  return withHeadingId(h("section", { class: "card" }, body), `card-${program.id}`);
}

function withHeadingId(section, id) {
  section.querySelector("h3").id = id;
  section.setAttribute("aria-labelledby", id);
  return section;
}

export async function renderProfile(main, config, result) {
  const rerender = (next) => renderProfile(main, config, next);
  frame(main, "My Learn profile");
  if (result && result.error) showError(result.error);
  else if (result) notice(result.kind, result.message);
  let profile;
  try {
    profile = await json("GET", "/api/me");
  } catch (error) {
    if (error instanceof ApiError) {
      if (!result) showError(error);
      else main.append(h("div", { class: "notice error" }, h("p", {}, error.message), error.guidance ? h("p", {}, error.guidance) : null));
      return;
    }
    throw error;
  }
  const byProgram = profile.programs;
  const titleOf = (c) => `${c.title} (${c.id})`;
  main.append(
    h("p", {}, `Signed in as ${profile.user.display_name} (${profile.user.email}).`),
    h("section", { class: "cards", "aria-label": "Programs" }, config.programs.map((p) => programCard(config, p, byProgram[p.id], rerender))),
    h("h2", {}, "Pending credit"),
    profile.pending_credits.length
      ? table("Credentials that count for your organization on their due date", ["Credential", "Kind", "Due on"],
          profile.pending_credits.map((c) => [titleOf(c.credential), c.credential.kind, day(c.due_at)]))
      : h("p", {}, "Nothing pending."),
    h("h2", {}, "Credited"),
    profile.credited.length
      ? table("Credentials credited to your organization", ["Credential", "Kind", "Credited on", "Status", "Leaves the Skills Report on"],
          profile.credited.map((c) => [titleOf(c.credential), c.credential.kind, day(c.credited_at), c.credential.status, day(c.removal_on) || "—"]))
      : h("p", {}, "Nothing credited yet."),
    h("h2", {}, "History"),
    profile.history.length
      ? table("Your associations, newest first", ["Program", "Learner id", "Started", "Ended", "Why it ended"],
          profile.history.map((a) => [programName(config, a.program), a.learner_id, day(a.started_at), day(a.ended_at) || "active", a.end_reason ? END_REASONS[a.end_reason] || a.end_reason : "—"]))
      : h("p", {}, "No associations yet."),
  );
}

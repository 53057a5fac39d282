// The organization pages, for Global admins and Account admins only.
import { call, json } from "./api.js";
import { h, day, table, notice, showError, confirmAction, frame } from "./dom.js";

function pager(continuation, load) {
  return continuation
    ? h("p", {}, h("button", { type: "button", id: "next-page", onclick: () => load(continuation) }, "Next page"))
    : null;
}

export async function renderUsers(main) {
  frame(main, "Users");
  const results = h("div", { id: "users" });
  const neverLinked = h("input", { type: "checkbox", id: "never-linked", onchange: () => load(null) });
  const email = h("input", { type: "email", id: "new-email", name: "email", required: true, autocomplete: "off" });
  const name = h("input", { type: "text", id: "new-name", name: "display_name", required: true, autocomplete: "off" });
  main.append(
    h("form", {
      class: "inline", "aria-labelledby": "add-title",
      onsubmit: async (event) => {
        event.preventDefault();
        try {
          const user = await json("POST", "/api/org/users", { body: { email: email.value, display_name: name.value } });
          notice("ok", `Added ${user.display_name} (${user.email}).`);
          email.value = name.value = "";
          await load(null);
        } catch (error) {
          showError(error);
        }
      },
    },
      h("h2", { id: "add-title" }, "Add a user"),
      h("label", { for: "new-email" }, "Work email"), email,
      h("label", { for: "new-name" }, "Display name"), name,
      h("button", { type: "submit" }, "Add user"),
    ),
    h("h2", {}, "People in your organization"),
    h("p", {}, neverLinked, " ", h("label", { for: "never-linked" }, "Only people who never linked a learner account")),
    results,
  );

  async function remove(user) {
    const sure = await confirmAction(
      `Remove ${user.display_name}?`,
      `${user.email} loses access to your organization and all their learner links end. Their credentials stay in the Skills Report until the monthly data refresh after today.`,
      "Remove user",
    );
    if (!sure) return;
    try {
      const removed = await json("DELETE", `/api/org/users/${encodeURIComponent(user.email)}`);
      notice("ok", `Removed ${removed.email}. Their credentials leave the Skills Report on ${removed.removal_on}.`);
      await load(null);
    } catch (error) {
      showError(error);
    }
  }

  async function load(continuation) {
    const query = new URLSearchParams();
    if (neverLinked.checked) query.set("linked", "false");
    if (continuation) query.set("continuation", continuation);
    try {
      const page = await json("GET", `/api/org/users?${query}`);
      const yes = (flag) => (flag ? "yes" : "no");
      results.replaceChildren(
        page.users.length
          ? table("Users", ["Email", "Name", "Status", "Added", "First sign-in", "Learn", "Partner University", "Actions"],
              page.users.map((u) => [
                u.email, u.display_name, u.status, day(u.created_at), day(u.first_seen_at) || "never",
                yes(u.linked.learn), yes(u.linked.partner_university),
                u.status === "active" ? h("button", { type: "button", class: "danger", "aria-label": `Remove ${u.email}`, onclick: () => remove(u) }, "Remove") : "—",
              ]))
          : h("p", {}, "No users on this page."),
        ...[pager(page.continuation, load)].filter(Boolean),
      );
    } catch (error) {
      showError(error);
    }
  }
  await load(null);
}

const REPORT_COLUMNS = ["email", "display_name", "program", "learner_id", "credential_id", "kind", "title", "completed_at", "credited_at", "removal_on", "expires_at", "status"];

async function downloadCsv(path, query, filename) {
  // Every page of the API's CSV, one header line, saved as one file.
  const parts = [];
  let continuation = null;
  do {
    const pageQuery = new URLSearchParams(query);
    if (continuation) pageQuery.set("continuation", continuation);
    const response = await call("GET", `${path}?${pageQuery}`, { accept: "text/csv" });
    const text = await response.text();
    parts.push(parts.length ? text.slice(text.indexOf("\n") + 1) : text);
    continuation = response.headers.get("x-continuation");
  } while (continuation);
  const link = h("a", { href: URL.createObjectURL(new Blob(parts, { type: "text/csv" })), download: filename });
  document.body.append(link);
  link.click();
  link.remove();
}

export async function renderReport(main) {
  frame(main, "Skills Report");
  const results = h("div", { id: "report" });
  main.append(
    h("p", {}, "Credentials credited to your organization. Rows with a removal date leave the report on that monthly data refresh."),
    h("p", {}, h("button", { type: "button", id: "download-csv", onclick: () => downloadCsv("/api/org/skills-report", "", "skills-report.csv").catch(showError) }, "Download CSV")),
    results,
  );
  async function load(continuation) {
    const query = continuation ? `?continuation=${encodeURIComponent(continuation)}` : "";
    try {
      const page = await json("GET", `/api/org/skills-report${query}`);
      results.replaceChildren(
        page.rows.length
          ? table("Skills Report", ["Email", "Name", "Program", "Learner id", "Credential", "Kind", "Title", "Completed", "Credited", "Removal on", "Expires", "Status"],
              page.rows.map((r) => REPORT_COLUMNS.map((c) => (c.endsWith("_at") || c === "removal_on" ? day(r[c]) || "—" : r[c]))))
          : h("p", {}, "No credentials in the report yet."),
        ...[pager(page.continuation, load)].filter(Boolean),
      );
    } catch (error) {
      showError(error);
    }
  }
  await load(null);
}

const TRACK_NAMES = { enterprise: "Enterprise", smb: "Small and medium business (SMB)" };
const points = (value) => Number(value).toLocaleString("en-US", { maximumFractionDigits: 2 });
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function gapSentence(m) {
  if (m.points_to_max <= 0) return `${m.name}: at the maximum.`;
  const who = plural(m.people_to_max, "more person", "more people");
  const gates = m.gates_met ? "" : " (a required step is short of people, so this metric counts 0 until it is met)";
  return `${who} with ${m.name.toLowerCase().replace(/s$/, "")}: +${points(m.points_to_max)} points${gates}.`;
}

function metricBlock(d, m) {
  const id = `${d.id}-${m.id}`;
  return h("div", { class: "metric" },
    h("h3", { id: `${id}-label` }, `${m.name}: ${points(m.points)} of ${points(m.cap)} points`),
    h("meter", { min: 0, max: m.cap, value: m.points, "aria-labelledby": `${id}-label` }, `${points(m.points)} of ${points(m.cap)}`),
    h("p", {}, `${plural(m.people, "certified person counts", "certified people count")}. ${gapSentence(m)}`),
    m.closest.length
      ? h("p", {}, "Closest: ", m.closest.map((c) => `${c.emails.join(", ")} (on the way to ${c.credential_name})`).join("; "), ".")
      : null,
  );
}

function expiryBlock(d) {
  if (!d.expiry.length) return h("p", {}, "No expiry lowers these points in the next 180 days.");
  return h("div", {},
    h("h3", {}, "What expiry takes away (next 180 days)"),
    h("ol", { class: "timeline" },
      d.expiry.map((drop) => h("li", {},
        `From ${drop.on}: ${points(drop.points)} points, unless `,
        drop.holders.map((x) => `${x.email} renews ${x.credential_name} (${x.credential_id})`).join(", "),
        ". Their expiry warnings: ",
        drop.holders.map((x, n) => [n ? ", " : "",
          h("a", { href: `/org/activity?type=credential.expiring&email=${encodeURIComponent(x.email)}` }, x.email)]),
        ".",
      ))),
  );
}

function trackControl(d, reload) {
  if (d.track_choice === "best") {
    return h("p", {}, `Microsoft scores both tracks and counts the higher: now ${TRACK_NAMES[d.track]}.`);
  }
  const id = `${d.id}-track`;
  const select = h("select", { id, name: "track" },
    Object.entries(TRACK_NAMES).map(([value, label]) => h("option", { value, selected: value === d.track }, label)));
  select.addEventListener("change", async () => {
    try {
      await json("PUT", `/api/org/designations/${encodeURIComponent(d.id)}/track`, { body: { track: select.value } });
      await reload();
    } catch (error) {
      showError(error);
    }
  });
  return h("p", {}, h("label", { for: id }, "Your organization's track "), select);
}

function peopleBlock(d) {
  const holder = h("div", { id: `${d.id}-people` });
  const show = async () => {
    try {
      const view = await json("GET", `/api/org/designations/${encodeURIComponent(d.id)}/people`);
      holder.replaceChildren(view.people.length
        ? table(`Who counts for ${d.name}`, ["Email", "Name", "Metric", "Points", "Certifications"],
            view.people.map((p) => [p.email, p.display_name, p.metric_name, points(p.points), p.credentials.join(", ")]))
        : h("p", {}, "Nobody counts for it yet."));
    } catch (error) {
      showError(error);
    }
  };
  return h("div", {},
    h("p", {},
      h("button", { type: "button", onclick: show }, `Who counts for ${d.name}`), " ",
      h("button", { type: "button", onclick: () => downloadCsv(`/api/org/designations/${encodeURIComponent(d.id)}/people`, "", `${d.id}-people.csv`).catch(showError) }, `Download CSV of ${d.name}`),
    ),
    holder,
  );
}

export async function renderDesignations(main) {
  frame(main, "Designations");
  const results = h("div", { id: "designations" });
  main.append(
    h("p", {}, "The skilling category of each Solutions Partner designation, from the credentials credited to your organization today: how many points you have, what would get you to the maximum, and what expiry will take away."),
    results,
  );
  async function load() {
    try {
      const { designations } = await json("GET", "/api/org/designations");
      results.replaceChildren(...designations.map((d) =>
        h("section", { class: "card", "aria-labelledby": `${d.id}-title` },
          h("h2", { id: `${d.id}-title` }, `${d.name}: ${points(d.points)} of ${points(d.max_points)} skilling points`),
          h("p", {}, d.points_missing > 0 ? `${points(d.points_missing)} points short of the skilling maximum.` : "At the skilling maximum.", " ",
            h("a", { href: d.source, rel: "noopener", target: "_blank" }, `How Microsoft scores it (read ${d.read_on})`)),
          trackControl(d, load),
          ...d.metrics.map((m) => metricBlock(d, m)),
          expiryBlock(d),
          peopleBlock(d),
        )));
    } catch (error) {
      showError(error);
    }
  }
  await load();
}

const ACTIVITY_TYPES = [
  "user.added", "user.reactivated", "user.departed", "association.started", "association.ended",
  "credential.credited", "credential.removal_scheduled", "credential.removed", "credential.expiring", "credential.expired",
];

export async function renderActivity(main) {
  frame(main, "Activity");
  const results = h("div", { id: "activity" });
  const type = h("select", { id: "activity-type", name: "type" },
    h("option", { value: "" }, "All types"), ACTIVITY_TYPES.map((t) => h("option", { value: t }, t)));
  const email = h("input", { type: "email", id: "activity-email", name: "email", autocomplete: "off" });
  // A link may carry the filters (the designations page links to a person's expiry warnings).
  const given = new URLSearchParams(location.search);
  if (ACTIVITY_TYPES.includes(given.get("type"))) type.value = given.get("type");
  if (given.get("email")) email.value = given.get("email");
  const filters = () => {
    const query = new URLSearchParams();
    if (type.value) query.set("type", type.value);
    if (email.value.trim()) query.set("email", email.value.trim());
    return query;
  };
  main.append(
    h("p", {}, "What happened in your organization, newest first: people added and removed, learner accounts linked and unlinked, credentials credited, scheduled for removal and removed."),
    h("form", {
      class: "inline", "aria-labelledby": "filter-title",
      onsubmit: (event) => {
        event.preventDefault();
        load(null);
      },
    },
      h("h2", { id: "filter-title" }, "Filter"),
      h("label", { for: "activity-type" }, "Type"), type,
      h("label", { for: "activity-email" }, "Work email"), email,
      h("button", { type: "submit" }, "Show"),
    ),
    h("p", {}, h("button", { type: "button", id: "download-activity-csv", onclick: () => downloadCsv("/api/org/activity", filters(), "activity.csv").catch(showError) }, "Download CSV")),
    results,
  );
  async function load(continuation) {
    const query = filters();
    if (continuation) query.set("continuation", continuation);
    try {
      const page = await json("GET", `/api/org/activity?${query}`);
      results.replaceChildren(
        page.entries.length
          ? table("Activity", ["When", "Type", "Email", "Name", "Program", "Learner id", "Credential", "Reason", "Removal on"],
              page.entries.map((e) => [
                String(e.at).slice(0, 16).replace("T", " "), e.type, e.email || "—", e.display_name || "—", e.program || "—",
                e.learner_id || "—", e.credential_id || "—", e.reason || "—", e.removal_on || "—",
              ]))
          : h("p", {}, "No activity matches."),
        ...[pager(page.continuation, load)].filter(Boolean),
      );
    } catch (error) {
      showError(error);
    }
  }
  await load(null);
}

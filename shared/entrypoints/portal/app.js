// The page's shell: who is signed in (GET /api/whoami), the navigation, and which
// page the address shows.
import { signedInUser } from "./api.js";
import { h } from "./dom.js";
import { renderProfile, finishSignIn } from "./profile.js";
import { renderUsers, renderReport, renderDesignations, renderActivity } from "./org.js";

const ORG_PAGES = { "/org/users": renderUsers, "/org/skills-report": renderReport, "/org/designations": renderDesignations, "/org/activity": renderActivity };

function isAdmin(user) {
  return user.admin === true;
}

function signIn(main) {
  const here = location.pathname === "/link-return" ? "/" : location.pathname;
  main.replaceChildren(
    h("h1", {}, "Skills Link"),
    h("p", {}, "Link your Microsoft Learn profile or Partner University account to your work account, so the certifications, assessments and trainings you complete count for your organization."),
    h("p", {}, h("a", { class: "button", href: `/.auth/login/aad?post_login_redirect_uri=${encodeURIComponent(here)}` }, "Sign in with your work account")),
  );
}

async function start() {
  const main = document.getElementById("main");
  const [user, config] = await Promise.all([
    signedInUser(),
    fetch("/config.json", { credentials: "same-origin" }).then((r) => r.json()),
  ]);
  if (!user) return signIn(main);
  const admin = isAdmin(user);
  document.getElementById("nav").hidden = false;
  for (const item of document.querySelectorAll(".admin-only")) item.hidden = !admin;
  document.getElementById("who").replaceChildren(
    h("span", {}, user.email), " ",
    h("a", { href: "/.auth/logout?post_logout_redirect_uri=/" }, "Sign out"),
  );
  for (const link of document.querySelectorAll("nav a")) {
    if (link.getAttribute("href") === location.pathname) link.setAttribute("aria-current", "page");
  }
  if (location.pathname === "/link-return") {
    main.replaceChildren(h("p", {}, "Linking…"));
    return renderProfile(main, config, await finishSignIn(config));
  }
  const orgPage = ORG_PAGES[location.pathname];
  if (orgPage) {
    if (!admin) {
      main.replaceChildren(h("h1", {}, "Organization"), h("p", {}, "The organization pages are for Global admins and Account admins of your organization."));
      return;
    }
    return orgPage(main);
  }
  return renderProfile(main, config, null);
}

start();

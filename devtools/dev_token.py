"""Print what a person needs to try the API with curl: a principal header and a
signed learner assertion, from a dev key pair kept under .dev/ (git-ignored).

    python -m devtools.dev_token --email pat@contoso.com --tenant contoso --admin
    python -m devtools.dev_token --learner MCID-123 --program learn
    python -m devtools.dev_token --settings   # the Values that trust the dev keys
"""

import argparse
import json
from pathlib import Path

from devtools.tokens import KeyPair, learner_assertion, principal_header

ROOT = Path(__file__).resolve().parent.parent
KEY_DIR = ROOT / ".dev"
AUDIENCE = "api://skills-link-local"
ISSUERS = {"learn": "https://learn.local/dev", "partner_university": "https://pu.local/dev"}
ALGORITHMS = {"learn": "ES256", "partner_university": "RS256"}


def dev_keys(program: str) -> KeyPair:
    path = KEY_DIR / f"{program}-key.json"
    if path.exists():
        return KeyPair(**json.loads(path.read_text()))
    keys = KeyPair.generate(ALGORITHMS[program])  # type: ignore[arg-type]
    KEY_DIR.mkdir(exist_ok=True)
    path.write_text(json.dumps(keys.__dict__))
    return keys


def dev_settings() -> dict[str, str]:
    return {
        "LEARN_SIGN_IN_URL": "/.dev/programs/learn/sign-in",
        "PARTNER_UNIVERSITY_SIGN_IN_URL": "/.dev/programs/partner_university/sign-in",
        "LEARN_ISSUER": ISSUERS["learn"],
        "LEARN_PUBLIC_KEY": dev_keys("learn").public_pem,
        "PARTNER_UNIVERSITY_ISSUER": ISSUERS["partner_university"],
        "PARTNER_UNIVERSITY_PUBLIC_KEY": dev_keys("partner_university").public_pem,
        "ASSERTION_AUDIENCE": AUDIENCE,
    }


def app_now(url: str = "http://127.0.0.1:7071") -> float:
    """The running app's clock (moved by `make demo` or /.dev/), else this machine's:
    an assertion must be fresh at the time the app lives in."""
    import time

    import httpx

    try:
        answer = httpx.get(f"{url}/admin/clock", timeout=0.5)
        answer.raise_for_status()
        from datetime import datetime

        return datetime.fromisoformat(answer.json()["now"]).timestamp()
    except (httpx.HTTPError, ValueError, KeyError):
        return time.time()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default="contoso-tenant")
    parser.add_argument("--email", default="pat@contoso.com")
    parser.add_argument("--admin", action="store_true", help="give the Partner.GlobalAdmin role")
    parser.add_argument("--learner", help="also mint a learner assertion for this learner id")
    parser.add_argument("--program", default="learn", choices=sorted(ISSUERS))
    parser.add_argument("--no-msa", action="store_true", help="a Learn profile without an MSA")
    parser.add_argument("--settings", action="store_true", help="print the settings as JSON")
    args = parser.parse_args(argv)
    if args.settings:
        print(json.dumps(dev_settings(), indent=2))
        return
    roles = ("Partner.GlobalAdmin",) if args.admin else ()
    print(f"X-MS-CLIENT-PRINCIPAL: {principal_header(args.tenant, args.email, roles=roles)}")
    if args.learner:
        token = learner_assertion(
            dev_keys(args.program),
            issuer=ISSUERS[args.program],
            audience=AUDIENCE,
            learner_id=args.learner,
            msa=None if args.no_msa else f"{args.learner.lower()}@outlook.com",
            issued_at=app_now(),
        )
        print(f"assertion: {token}")


if __name__ == "__main__":
    main()

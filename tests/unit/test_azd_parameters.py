"""The deploy read the way azd reads it (there is no subscription here, so azd's own
source is the referee):

- `infra/main.parameters.json` goes through drone/envsubst with the raw environment
  values (no escaping), then through a JSON parser, then azd converts strings to the
  Bicep parameter's type (`armParameterFileValue` in
  cli/azd/pkg/infra/provisioning/bicep/bicep_provider.go: strconv.ParseBool for bool,
  ParseInt for int) and prompts for a required string left empty;
- `azd env set` takes `KEY=VALUE` arguments (several only in that form), or one `KEY
  VALUE` pair whose value does not start with `-` (the flag parser would take it for a
  flag), or `--file` (cli/azd/cmd/env.go)."""

import base64
import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
from pycep import BicepParser

from devtools.tokens import KeyPair

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
AZD_OWN = {"AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID", "AZURE_SUBSCRIPTION_ID"}
"""Set by azd itself (`azd env new`, `azd provision`'s prompts, the signed-in user)."""
_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[=-])([^}]*))?\}")
_BARE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_ANY_REFERENCE = re.compile(f"{_REFERENCE.pattern}|{_BARE.pattern}")


def envsubst(text: str, environment: dict[str, str]) -> str:
    """drone/envsubst as azd calls it: `${VAR}`, `${VAR=default}` (`:=`, `-`, `:-`
    alike: azd's lookup cannot tell unset from empty), values inserted raw."""

    def value(match: re.Match[str]) -> str:
        if match.group(4) is not None:
            # A bare $NAME is a reference too ("$schema" becomes an empty key: harmless).
            return environment.get(match.group(4), "")
        name, operator, default = match.group(1), match.group(2), match.group(3)
        found = environment.get(name, "")
        return found if found or operator is None else default

    # One pass, as envsubst: a value is never read again for references.
    return _ANY_REFERENCE.sub(value, text)


def converted(kind: str, value: Any) -> Any:
    """azd's relaxed conversion of a parameter file value to the Bicep type."""
    if isinstance(value, str) and kind == "bool" and value in _GO_BOOLS:
        return value.lower() in ("1", "t", "true")
    if isinstance(value, str) and kind == "int" and re.fullmatch(r"[+-]?\d+", value):
        return int(value)
    return value


_GO_BOOLS = {"1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"}


def _pem_with_text(keys: KeyPair, note: str) -> str:
    """A PEM file as programs hand them out: explanatory text before the block."""
    return f"{note}\n{keys.public_pem}"


def realistic_environment() -> dict[str, str]:
    learn = [KeyPair.generate("ES256"), KeyPair.generate("RS256")]
    rotated = "".join(
        _pem_with_text(k, f'Key "{n}" of Learn \\ rotation — clé n°{n}')
        for n, k in enumerate(learn)
    )
    pu = _pem_with_text(KeyPair.generate("RS256"), "Partner University — signing key")
    return {
        "AZURE_ENV_NAME": "skills-link-prod",
        "AZURE_LOCATION": "westeurope",
        "AZURE_PRINCIPAL_ID": "7d3c1e2a-4b5c-4d6e-8f90-1a2b3c4d5e6f",
        "AUTH_CLIENT_ID": "0f1e2d3c-4b5a-4968-8776-655443322110",
        "LEARN_ISSUER": "https://learn.microsoft.com/émetteur",
        "LEARN_PUBLIC_KEY": base64.b64encode(rotated.encode()).decode(),
        "PARTNER_UNIVERSITY_ISSUER": "https://partneruniversity.microsoft.com/issuer",
        "PARTNER_UNIVERSITY_PUBLIC_KEY": base64.b64encode(pu.encode()).decode(),
        "ASSERTION_AUDIENCE": "api://skills-link",
    }


def bicep_parameters() -> dict[str, Any]:
    parameters: dict[str, Any] = BicepParser().parse(file_path=INFRA / "main.bicep")["parameters"]
    return parameters


def load_like_azd(parameters_text: str, environment: dict[str, str]) -> dict[str, Any]:
    substituted = envsubst(parameters_text, environment)
    document = json.loads(substituted)  # strict: a raw newline in a string is an error, as in Go
    values: dict[str, Any] = {k: v["value"] for k, v in document["parameters"].items()}
    return values


@pytest.mark.parametrize("vnet", ["", "true", "false", "TRUE"])
def test_azd_reads_the_parameters_with_two_pem_keys_quotes_backslashes_and_non_ascii(
    vnet: str,
) -> None:
    environment = {**realistic_environment(), **({"VNET_ENABLED": vnet} if vnet else {})}
    values = load_like_azd((INFRA / "main.parameters.json").read_text(), environment)
    declared = bicep_parameters()
    assert set(values) <= set(declared), "a parameter main.bicep does not declare"
    python_types = {"string": str, "bool": bool, "int": int}
    for name, parameter in declared.items():
        if name not in values:
            assert parameter["default"] is not None, f"{name}: no value and no default"
            continue
        value = converted(parameter["type"], values[name])
        assert isinstance(value, python_types[parameter["type"]]), (name, value)
        if parameter["type"] == "string" and parameter["default"] is None:
            assert value, f"{name}: empty and required, azd would stop and prompt"
    assert converted("bool", values["vnetEnabled"]) is (vnet.lower() == "true")


def test_program_keys_arrive_in_the_app_as_every_pem_block_they_were() -> None:
    from shared.adapters.assertions import pem_blocks

    environment = realistic_environment()
    values = load_like_azd((INFRA / "main.parameters.json").read_text(), environment)
    learn = pem_blocks(values["learnPublicKey"])
    assert len(learn) == 2
    assert all(block.startswith("-----BEGIN PUBLIC KEY-----") for block in learn)
    assert len(pem_blocks(values["partnerUniversityPublicKey"])) == 1


def test_every_value_azd_substitutes_is_a_single_json_safe_line() -> None:
    """What docs/DEPLOY.md tells an operator to set: raw PEM text would be refused here."""
    text = (INFRA / "main.parameters.json").read_text()
    bare = set(_BARE.findall(_REFERENCE.sub("", text)))
    assert bare == {"schema"}, "a bare $NAME would be substituted too"
    pem = KeyPair.generate("ES256").public_pem
    with pytest.raises(json.JSONDecodeError):
        load_like_azd(text, {**realistic_environment(), "LEARN_PUBLIC_KEY": pem})


def readme_azd_env_set_lines() -> list[str]:
    """The `azd env set` commands of docs/DEPLOY.md's shell blocks (fences read line by
    line), and those quoted inline in its text."""
    lines: list[str] = []
    fence: str | None = None
    text = (ROOT / "docs" / "DEPLOY.md").read_text()
    for line in text.replace("\\\n", " ").splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            fence = None if fence is not None else stripped[3:] or "text"
            continue
        if fence in ("bash", "sh", "shell") and stripped.startswith("azd env set"):
            lines.append(stripped)
    lines += re.findall(r"`(azd env set [^`]+)`", text)
    return lines


def azd_env_set_problem(line: str) -> str | None:
    """Why azd would refuse this `azd env set` line, or None."""
    words = shlex.split(line, comments=True)[3:]
    if not words:
        return "nothing to set"
    if words[0] == "--file":
        return None if len(words) == 2 else "--file takes one path"
    if all("=" in w and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w) for w in words):
        return None
    if len(words) == 2 and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", words[0]):
        value = words[1]
        if value.startswith("-"):
            return "the value starts with '-': azd's flag parser takes it for a flag"
        if value.startswith("$("):
            return "a command's output may start with '-' (PEM does): use KEY=VALUE"
        return None
    return "several pairs are accepted only as KEY=VALUE"


def test_every_azd_env_set_line_of_the_deploy_guide_is_one_azd_accepts() -> None:
    lines = readme_azd_env_set_lines()
    assert len(lines) >= 5
    problems = {line: azd_env_set_problem(line) for line in lines}
    assert {line: p for line, p in problems.items() if p} == {}


def test_the_deploy_guide_sets_every_variable_the_parameters_need() -> None:
    text = (INFRA / "main.parameters.json").read_text()
    needed = {m.group(1) for m in _REFERENCE.finditer(text) if m.group(2) is None} - AZD_OWN
    set_by_readme = {
        re.split(r"[= ]", shlex.split(line)[3], maxsplit=1)[0]
        for line in readme_azd_env_set_lines()
    }
    assert needed <= set_by_readme


@pytest.mark.parametrize(
    ("line", "refused"),
    [
        ('azd env set LEARN_ISSUER https://issuer LEARN_PUBLIC_KEY "$(cat learn.pem)"', True),
        ('azd env set LEARN_PUBLIC_KEY "$(cat learn.pem)"', True),
        ("azd env set LEARN_PUBLIC_KEY -----BEGIN", True),
        ('azd env set LEARN_PUBLIC_KEY="$(base64 -w0 learn.pem)"', False),
        ("azd env set AUTH_CLIENT_ID 0f1e2d3c", False),
        ("azd env set A=1 B=2", False),
    ],
)
def test_the_azd_env_set_rules_themselves(line: str, refused: bool) -> None:
    assert (azd_env_set_problem(line) is not None) is refused

"""One small run of `make bench` (tiny sizes), so the benchmark command cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_benchmark_command_runs_and_writes_its_figures(tmp_path: Path) -> None:
    output = tmp_path / "latest.json"
    run = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--smoke", "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(output.read_text())
    names = {f["name"] for f in results["figures"]}
    for expected in (
        "round trips: first link",
        "round trips: credit apply",
        "links/s, 4 worker(s)",
        "credit wake-ups applied/s, 2 process(es) draining",
        "refresh requests growth, smallest to largest",
        "import ratio function_app / azure.functions",
        "open loop, 2 instances: saturation throughput of the mix",
        "open loop, 2 instances: invariant violations afterwards",
    ):
        assert expected in names
    assert "import ratio function_app / azure.functions" in run.stdout

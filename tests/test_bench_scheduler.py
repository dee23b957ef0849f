"""The scheduling benchmark's command prints what the issue asks of it (a smoke test: no timing is judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "scheduler.py"


def _run(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCH), "--patients", "36", "--time-limit", "1", "--prove", "0", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return done.stdout


def test_json_gives_one_object_per_solver_and_seed_with_the_issues_keys() -> None:
    lines = _run("--seed", "3", "--seeds", "2", "--json").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["solver"], r["seed"]) for r in rows] == [("cp-sat", 3), ("greedy", 3), ("cp-sat", 4), ("greedy", 4)]
    for r in rows:
        assert {"solver", "patients", "seconds", "at_dose", "coverable", "gap"} <= r.keys()
        assert r["patients"] == 36 and r["hard_rule_problems"] == 0
        assert 0 <= r["at_dose"] <= r["coverable"] <= 100
    cp_sat = [r for r in rows if r["solver"] == "cp-sat"]
    greedy = [r for r in rows if r["solver"] == "greedy"]
    assert all(c["at_dose"] >= g["at_dose"] for c, g in zip(cp_sat, greedy, strict=True))


def test_several_seeds_end_with_how_many_met_the_targets_terms() -> None:
    out = _run("--seed", "1", "--seeds", "2")
    assert out.count("patients, 3 clinicians, seed ") == 2
    last = out.strip().splitlines()[-1]
    assert last.startswith("on target (CP-SAT at >= 99% of coverable, gap <= 1%, within 1 s + 0.1): ")
    assert " of 2 seeds (" in last

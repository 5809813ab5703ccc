"""Hook latency: the installed UserPromptSubmit command, run as Claude Code runs it, cold vs warm.

On a scratch copy of the bundled Ledgerline example (indexed), ``flow hooks install claude-code``
writes the command; each run pipes a real UserPromptSubmit payload through ``/bin/sh -c`` with
the system PATH and ``CLAUDE_PROJECT_DIR`` set, and times the whole process (interpreter
start-up, settings, index load, query encoding, pack, JSON out). Four cases:

- cold: no server running (the default after install; the pack is built in the hook process);
- warm: a ``flow serve`` running (the pack comes over its unix socket);
- each again with a CPU burner spinning on every other core (a busy machine: a build, a test run).

It decides whether the hook needs a server (started on demand, exiting when idle) or the cold
path fits the time the agent gives a hook (Claude Code's default for UserPromptSubmit: 30 s).

    .venv/bin/python benchmarks/hooks.py [--runs 15]

Prints a markdown table and writes ``benchmarks/results/hooks.json``.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "ledgerline"
FLOW = Path(sys.executable).with_name("flow")
PROMPTS = [
    "Add partial refunds to the payments API, with a credit note for finalized invoices",
    "Why do duplicate Stripe webhooks create two payments?",
    "Retry failed card payments with backoff",
    "How are money amounts stored and rounded?",
    "Add a CLI command that lists refunds for a tenant",
]


def burn() -> None:
    while True:
        pass


def run_hook(root: Path, command: str, prompt: str, timeout: float) -> tuple[float, bool]:
    payload = {"session_id": "bench", "transcript_path": str(root / "t.jsonl"), "cwd": str(root),
               "permission_mode": "default", "hook_event_name": "UserPromptSubmit", "prompt": prompt}
    env = {**os.environ, "PATH": os.defpath, "CLAUDE_PROJECT_DIR": str(root)}
    started = time.perf_counter()
    done = subprocess.run(["/bin/sh", "-c", command], input=json.dumps(payload), capture_output=True, text=True,
                          cwd=root, env=env, timeout=timeout)
    seconds = time.perf_counter() - started
    try:
        ok = "additionalContext" in json.loads(done.stdout).get("hookSpecificOutput", {})
    except (ValueError, AttributeError):
        ok = False
    return seconds, ok


def series(root: Path, command: str, runs: int, timeout: float) -> dict[str, Any]:
    times, injected = [], 0
    for i in range(runs):
        seconds, ok = run_hook(root, command, PROMPTS[i % len(PROMPTS)], timeout)
        times.append(seconds)
        injected += ok
    times.sort()
    return {"runs": runs, "injected": injected, "p50_s": statistics.median(times),
            "p95_s": times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))], "max_s": times[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="flow-hooks-bench-"))
    try:
        root = work / "ledgerline"
        shutil.copytree(EXAMPLE, root)
        subprocess.run([str(FLOW), "-C", str(root), "index"], check=True, capture_output=True)
        subprocess.run([str(FLOW), "-C", str(root), "hooks", "install", "claude-code"], check=True, capture_output=True)
        [group] = json.loads((root / ".claude" / "settings.json").read_text())["hooks"]["UserPromptSubmit"]
        command, timeout = group["hooks"][0]["command"], float(group["hooks"][0]["timeout"])
        results: dict[str, Any] = {"cores": os.cpu_count(), "load_before": os.getloadavg()[0], "timeout_s": timeout}
        burners = max(1, (os.cpu_count() or 2) - 1)
        for loaded in (False, True):
            procs = [multiprocessing.Process(target=burn, daemon=True) for _ in range(burners if loaded else 0)]
            for p in procs:
                p.start()
            try:
                results[f"cold{'_loaded' if loaded else ''}"] = series(root, command, args.runs, timeout)
                server = subprocess.Popen([str(FLOW), "-C", str(root), "serve"], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)
                try:
                    deadline = time.monotonic() + 120
                    while not (root / ".flow" / "state" / "warm.json").exists() and time.monotonic() < deadline:
                        time.sleep(0.2)
                    results[f"warm{'_loaded' if loaded else ''}"] = series(root, command, args.runs, timeout)
                finally:
                    server.terminate()
                    server.wait(timeout=30)
            finally:
                for p in procs:
                    p.terminate()
        results["burners"] = burners
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"| installed UserPromptSubmit hook ({results['cores']} cores, timeout {timeout:g}s) | p50 | p95 | max | "
          "context injected |")
    print("|---|---|---|---|---|")
    for key, label in (("cold", "no server (cold path)"), ("warm", "`flow serve` running"),
                       ("cold_loaded", f"no server, {burners} core(s) busy"),
                       ("warm_loaded", f"`flow serve`, {burners} core(s) busy")):
        r = results[key]
        print(f"| {label} | {r['p50_s']:.2f} s | {r['p95_s']:.2f} s | {r['max_s']:.2f} s | {r['injected']}/{r['runs']} |")
    out = ROOT / "benchmarks" / "results" / "hooks.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()

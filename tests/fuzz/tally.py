"""The fuzzing figures at the end of a test run: cases sent and failures found, per fuzzer.

Each fuzzing test records ``fuzz_suite``, ``fuzz_cases`` and ``fuzz_failures`` with
``record_property``; the properties travel with the test reports (across pytest-xdist workers
too), and this hook, imported by tests/conftest.py, adds them up in the terminal summary.
"""

from __future__ import annotations

from collections import defaultdict


def pytest_terminal_summary(terminalreporter) -> None:
    """One line per fuzzer: ``<suite>: N cases, F failures (T tests)``."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            if getattr(report, "when", "call") != "call":
                continue
            properties = dict(getattr(report, "user_properties", ()))
            if "fuzz_cases" not in properties:
                continue
            suite = totals[properties.get("fuzz_suite", report.nodeid)]
            suite[0] += int(properties["fuzz_cases"])
            suite[1] += int(properties.get("fuzz_failures", 0))
            suite[2] += 1
    if not totals:
        return
    terminalreporter.write_sep("-", "fuzzing")
    for name, (cases, failures, tests) in sorted(totals.items()):
        terminalreporter.write_line(f"{name}: {cases} cases, {failures} failures ({tests} tests)")
    cases = sum(t[0] for t in totals.values())
    failures = sum(t[1] for t in totals.values())
    terminalreporter.write_line(f"all fuzzers: {cases} cases, {failures} failures")

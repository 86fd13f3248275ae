#!/usr/bin/env python3
"""Summarize the Autobahn (kosoku) reports that `autobahn/run` wrote.

    summarize.py [--reports DIR] [--markdown] [TARGET...]

For each target (default: every directory under DIR that has a report or a
status.txt) it reads DIR/TARGET/index.json -- Autobahn's format, written by
kosoku: {agent: {case id: {"behavior", "behaviorClose", "remoteCloseCode",
"duration", "reportfile"}}} -- and DIR/TARGET/status.txt (key=value lines from
`run`: kind, command, cases, exclude, allow, errors, timings), prints one line
of counts per target, then the case ids that were not OK.

A target passes when:
  * the harness saw no error (peer started, stayed up, exited 0, kosoku
    finished in time, a client ended the run itself with /updateReports);
  * every selected case has a result (the expected set is computed from
    kosoku's own case index with the same include/exclude globs);
  * every `behavior` is OK or INFORMATIONAL, except UNIMPLEMENTED in 12.*/13.*
    (permessage-deflate, which the crate does not implement yet);
  * every `behaviorClose` is OK or INFORMATIONAL;
  * or a non-passing result is listed in the target's allow file (only the
    reference targets have one: documented deviations of the reference peer).
NON-STRICT, FAILED, ERROR (kosoku could not run the case), UNIMPLEMENTED
outside 12/13, WRONG CODE, UNCLEAN, FAILED BY CLIENT all fail the target.

Exit status: 0 if every target passed, 1 otherwise, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

BEHAVIORS = ["OK", "NON-STRICT", "FAILED", "INFORMATIONAL", "UNIMPLEMENTED", "ERROR"]
CLOSES = ["OK", "INFORMATIONAL", "WRONG CODE", "UNCLEAN", "FAILED BY CLIENT", "FAILED"]
PASSING = {"OK", "INFORMATIONAL"}
# permessage-deflate (RFC 7692) cases: UNIMPLEMENTED is allowed there.
DEFLATE_GROUPS = ("12", "13")


def sort_key(case_id: str) -> list[int]:
    return [int(p) if p.isdigit() else 0 for p in case_id.split(".")]


def label(value: str) -> str:
    """`WRONG CODE` -> `WRONG-CODE`, so a count line splits on spaces."""
    return value.replace(" ", "-")


def read_status(path: Path) -> dict[str, list[str]]:
    status: dict[str, list[str]] = {}
    if path.is_file():
        for line in path.read_text(errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                status.setdefault(key, []).append(value)
    return status


def first(status: dict[str, list[str]], key: str, default: str = "") -> str:
    return status.get(key, [default])[0]


def kosoku_glob(pattern: str) -> re.Pattern[str]:
    # kosoku (like Autobahn) anchors a glob at the start only.
    return re.compile("^" + pattern.replace(".", r"\.").replace("*", ".*"))


def expected_cases(include: list[str], exclude: list[str]) -> list[str] | None:
    """The case ids kosoku selects for these -i/-x globs, from its own index."""
    try:
        from kosoku.cases import CASES  # type: ignore[import-not-found]
    except Exception:  # noqa: BLE001 - any import trouble: skip the check
        return None
    all_ids = list(CASES)

    def expand(patterns: list[str], ids: list[str]) -> set[str]:
        out: set[str] = set()
        for pat in patterns:
            if "*" in pat:
                rx = kosoku_glob(pat)
                out.update(i for i in ids if rx.match(i))
            elif pat in ids:
                out.add(pat)
        return out

    selected = expand(include, all_ids) if include else set(all_ids)
    selected -= expand(exclude, all_ids)
    return sorted(selected, key=sort_key)


@dataclass
class Allow:
    glob: str
    behavior: str
    close: str

    def matches(self, case_id: str, behavior: str, close: str) -> bool:
        return (
            fnmatch.fnmatchcase(case_id, self.glob)
            and self.behavior in ("*", label(behavior))
            and self.close in ("*", label(close))
        )


def read_allow(path: str) -> list[Allow]:
    """Lines `CASE-GLOB BEHAVIOR [BEHAVIOR-CLOSE]`; `#` starts a comment; a
    space inside a label may be written as `-` (WRONG-CODE); `*` is any."""
    rules = []
    for raw in Path(path).read_text().splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 2:
            raise ValueError(f"{path}: bad line {raw!r}")
        close = label(" ".join(words[2:])) if len(words) > 2 else "*"
        rules.append(Allow(words[0], label(words[1]), close))
    return rules


def compact(ids: list[str], limit: int = 30) -> str:
    shown = ", ".join(ids[:limit])
    return shown + (f", ... ({len(ids) - limit} more)" if len(ids) > limit else "")


@dataclass
class Summary:
    target: str
    kind: str = "?"
    ran: int = 0
    expected: int | None = None
    seconds: str = ""
    behavior: dict[str, int] = field(default_factory=dict)
    close: dict[str, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def summarize(target: str, reports: Path) -> Summary:
    tdir = reports / target
    status = read_status(tdir / "status.txt")
    s = Summary(target, kind=first(status, "kind", "?"), seconds=first(status, "seconds"))
    for err in status.get("error", []):
        s.failures.append(f"harness: {err}")
    for note in status.get("note", []):
        s.notes.append(f"harness: {note}")

    index_path = tdir / "index.json"
    results: dict[str, tuple[str, str]] = {}
    agents: list[str] = []
    if not index_path.is_file():
        s.failures.append(
            "no index.json: kosoku wrote no report (no case ran, or it was killed)"
        )
    else:
        try:
            index = json.loads(index_path.read_text())
        except (OSError, ValueError) as exc:
            index = {}
            s.failures.append(f"unreadable index.json: {exc}")
        for agent, cases in index.items():
            agents.append(agent)
            for case_id, entry in cases.items():
                results[case_id] = (
                    str(entry.get("behavior")),
                    str(entry.get("behaviorClose")),
                )
    if len(agents) > 1:
        s.notes.append(f"{len(agents)} agents in one report: {', '.join(agents)}")
    elif agents:
        s.notes.append(f"agent: {agents[0]}")

    s.ran = len(results)
    if index_path.is_file() and s.ran == 0:
        s.failures.append("zero cases ran")

    include = first(status, "cases").split()
    exclude = first(status, "exclude").split()
    expected = expected_cases(include, exclude)
    if expected is None:
        s.notes.append("kosoku not importable here: expected case count not checked")
    else:
        s.expected = len(expected)
        missing = [c for c in expected if c not in results]
        if missing:
            s.failures.append(
                f"{len(missing)} of {len(expected)} selected cases have no result: "
                + compact(missing)
            )

    allow_file = first(status, "allow")
    allow = read_allow(allow_file) if allow_file else []

    s.behavior = {b: 0 for b in BEHAVIORS}
    s.close = {c: 0 for c in CLOSES}
    not_ok: list[str] = []
    allowed: list[str] = []
    deflate_unimplemented: list[str] = []
    bad: dict[str, list[str]] = {}
    for case_id in sorted(results, key=sort_key):
        behavior, close = results[case_id]
        s.behavior[behavior] = s.behavior.get(behavior, 0) + 1
        s.close[close] = s.close.get(close, 0) + 1
        if behavior == "OK" and close == "OK":
            continue
        group = case_id.split(".")[0]
        if behavior == "UNIMPLEMENTED" and group in DEFLATE_GROUPS and close in PASSING:
            deflate_unimplemented.append(case_id)
            continue
        desc = f"{case_id} {behavior}/{close}"
        if behavior in PASSING and close in PASSING:
            not_ok.append(desc)
        elif any(rule.matches(case_id, behavior, close) for rule in allow):
            allowed.append(desc)
        else:
            reason = behavior if behavior not in PASSING else f"close {close}"
            bad.setdefault(reason, []).append(desc)

    for reason, descs in bad.items():
        s.failures.append(f"{len(descs)} {reason}: " + compact(descs))
    if allowed:
        s.notes.append(
            f"{len(allowed)} allowed by {Path(allow_file).name}: " + compact(allowed)
        )
    if deflate_unimplemented:
        s.notes.append(
            f"{len(deflate_unimplemented)} UNIMPLEMENTED in 12.*/13.* "
            "(permessage-deflate; allowed)"
        )
    if not_ok:
        s.notes.append("passing but not OK: " + compact(not_ok))
    return s


def line(s: Summary) -> str:
    verdict = "PASS" if s.passed else "FAIL"
    cases = f"{s.ran}/{s.expected if s.expected is not None else '?'} cases"
    took = f" in {s.seconds}s" if s.seconds else ""
    behavior = " ".join(f"{label(k)}={v}" for k, v in s.behavior.items())
    close = " ".join(f"{label(k)}={v}" for k, v in s.close.items())
    return (
        f"{verdict} {s.target:<20} {s.kind:<6} {cases}{took} | "
        f"behavior {behavior} | close {close}"
    )


def markdown(summaries: list[Summary]) -> str:
    head = ["target", "kind", "cases", *BEHAVIORS, "close not OK", "result"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for s in summaries:
        close_bad = sum(v for k, v in s.close.items() if k != "OK")
        cells = [
            f"`{s.target}`",
            s.kind,
            f"{s.ran}/{s.expected if s.expected is not None else '?'}",
            *(str(s.behavior.get(b, 0)) for b in BEHAVIORS),
            str(close_bad),
            "pass" if s.passed else "**fail**",
        ]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> int:
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", help="target names (default: all)")
    parser.add_argument("--reports", type=Path, default=here / "reports")
    parser.add_argument(
        "--markdown", action="store_true", help="also print a Markdown table"
    )
    args = parser.parse_args()

    targets = args.targets or sorted(
        p.name
        for p in args.reports.glob("*")
        if (p / "index.json").is_file() or (p / "status.txt").is_file()
    )
    if not targets:
        print(f"summarize: no reports under {args.reports}", file=sys.stderr)
        return 2

    summaries = [summarize(t, args.reports) for t in targets]
    print("\n=== Autobahn summary (kosoku) ===")
    for s in summaries:
        print(line(s))
        for failure in s.failures:
            print(f"    FAIL: {failure}")
        for note in s.notes:
            print(f"    note: {note}")
    failed = [s.target for s in summaries if not s.passed]
    if failed:
        print(f"failed targets: {', '.join(failed)} (reports: {args.reports})")
    # A closing line of the plain `N passed, N failed` form, counted in targets.
    print(f"autobahn: {len(summaries) - len(failed)} passed, {len(failed)} failed")
    if args.markdown:
        print()
        print(markdown(summaries))

    (args.reports / "summary.json").write_text(
        json.dumps(
            [
                {
                    "target": s.target,
                    "kind": s.kind,
                    "passed": s.passed,
                    "cases": s.ran,
                    "expected": s.expected,
                    "seconds": s.seconds,
                    "behavior": s.behavior,
                    "behaviorClose": s.close,
                    "failures": s.failures,
                    "notes": s.notes,
                }
                for s in summaries
            ],
            indent=2,
        )
        + "\n"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

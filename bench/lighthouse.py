"""Lighthouse (npm `lighthouse`, pinned in package.json) on the public pages, driving Debian's
Chromium, as a phone (Lighthouse's default mobile emulation): the four category scores.

`make lighthouse` seeds the demo and serves it with gunicorn; `make bench` runs the same
against its own server. The target is 100 in every category on every page."""

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.measure import ROOT, Server, clean_env

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROMIUM = "/usr/bin/chromium"
PAGES = {
    "event": "/",
    "team": "/t/carers-group",  # a demo team (app/events/demo.py), as bench/run.py uses
    "sponsor": "/p/aisha",
    "donate": "/donate/aisha",
}
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


def scores(base_url: str, pages: dict[str, str] = PAGES) -> dict[str, dict[str, int]]:
    """Each page's four Lighthouse scores, 0 to 100."""
    if not LIGHTHOUSE.exists():
        raise RuntimeError("Lighthouse is not installed: run `npm ci`")
    found = {}
    with tempfile.TemporaryDirectory(prefix="plunge-lighthouse-") as tmp:
        kept = Path(os.environ.get("LIGHTHOUSE_REPORTS") or tmp)
        kept.mkdir(parents=True, exist_ok=True)
        for name, path in pages.items():
            report = kept / f"{name}.json"
            subprocess.run(
                [
                    str(LIGHTHOUSE),
                    base_url + path,
                    "--quiet",
                    "--output=json",
                    f"--output-path={report}",
                    f"--only-categories={','.join(CATEGORIES)}",
                    f"--chrome-flags={CHROME_FLAGS}",
                ],
                env={**os.environ, "CHROME_PATH": CHROMIUM},
                check=True,
                capture_output=True,
                timeout=300,
            )
            result = json.loads(report.read_text())
            categories = result["categories"]
            found[name] = {key: round(categories[key]["score"] * 100) for key in CATEGORIES}
            found[name]["short_of_full_marks"] = _shortfalls(result)
    return found


def _shortfalls(result: dict) -> list[str]:
    """The audits that cost points, as "id (score)"."""
    audits = result["audits"]
    weighted = [
        ref["id"]
        for category in result["categories"].values()
        for ref in category["auditRefs"]
        if ref.get("weight")
    ]
    return [
        f"{key} ({audits[key]['score']:.2f}: {audits[key].get('displayValue', '')})"
        for key in dict.fromkeys(weighted)
        if audits[key].get("score") is not None and audits[key]["score"] < 1
    ]


def report(found: dict[str, dict[str, int]]) -> str:
    """A table of the scores, one page a line."""
    lines = [f"{'lighthouse (mobile)':<22}" + "".join(f"{c:>16}" for c in CATEGORIES)]
    for name, page in found.items():
        lines.append(f"{name:<22}" + "".join(f"{page[c]:>16}" for c in CATEGORIES))
    for name, page in found.items():
        lines += [
            f"  {name}: short of full marks on {audit}" for audit in page["short_of_full_marks"]
        ]
    return "\n".join(lines)


def main() -> int:
    """Seed the demo, serve it, score its pages; 1 unless every score is 100."""
    with tempfile.TemporaryDirectory(prefix="plunge-lighthouse-") as tmp:
        env = clean_env(f"sqlite:///{Path(tmp) / 'lighthouse.db'}")
        for command in (["flask", "--app", "wsgi", "db", "upgrade"], ["bench.seed", "demo", "100"]):
            subprocess.run([sys.executable, "-m", *command], cwd=ROOT, env=env, check=True)
        with Server("app", "wsgi:app", env, Path(tmp) / "app.log") as app:
            found = scores(app.url)
    sys.stdout.write(report(found) + "\n")
    return 0 if all(page[c] == 100 for page in found.values() for c in CATEGORIES) else 1


if __name__ == "__main__":
    sys.exit(main())

"""`make bench` (called by bench_api.py): a PDF readiness report of the 500-item release
(1,500 sign-offs) through Shipcheck's render path (the report's reads, its template and
WeasyPrint, as the Celery task runs it) against WeasyPrint alone on the same HTML, and the
report's peak memory, measured in a fresh process (VmHWM, else `ru_maxrss`).

    python tests/bench/bench_report.py --once <release id>   # one report in this process
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_REPORT_RUNS", "3"))


def _report(release_id: int) -> Any:
    from notifications.models import Report

    return Report(release_id=release_id, language="en", time_zone="UTC")


def render_path(release_id: int) -> bytes:
    """What the task does between claiming the row and storing the file."""
    from notifications.pdf import html_to_pdf
    from notifications.services.reports import report_html

    return html_to_pdf(report_html(_report(release_id)))


def weasyprint_alone(html: str) -> bytes:
    from weasyprint import HTML

    return HTML(string=html).write_pdf()


def _timed(call: Any) -> float:
    start = time.perf_counter()
    call()
    return (time.perf_counter() - start) * 1000


def measure(release_id: int) -> dict[str, Any]:
    """Medians (ms) of the render path and of WeasyPrint alone, alternated after a warm-up,
    and the peak memory of one report in a fresh process."""
    from notifications.services.reports import report_html

    html = report_html(_report(release_id))
    pdf = render_path(release_id)
    weasyprint_alone(html)
    ours, alone = [], []
    for _ in range(RUNS):
        ours.append(_timed(lambda: render_path(release_id)))
        alone.append(_timed(lambda: weasyprint_alone(html)))
    return {
        "ours": statistics.median(ours),
        "alone": statistics.median(alone),
        "pages": pdf.count(b"/Type /Page\n") or pdf.count(b"/Type/Page") or pdf.count(b"/Type /Page"),
        "bytes": len(pdf),
        "memory": peak_memory(release_id),
    }


def peak_memory(release_id: int) -> dict[str, float]:
    """Peak resident memory (MB) of a fresh process: after Django's start, and after a report."""
    out = subprocess.run(
        [sys.executable, str(Path(__file__)), "--once", str(release_id)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {"started": float(out[-3]), "after": float(out[-2]), "seconds": float(out[-1])}


def _maxrss_mb() -> float:
    """The process's peak resident memory. Linux's VmHWM: ru_maxrss would carry over the
    parent's peak across fork and exec."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def once(release_id: int) -> None:
    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    started = _maxrss_mb()
    seconds = _timed(lambda: render_path(release_id)) / 1000
    print(f"{started:.1f} {_maxrss_mb():.1f} {seconds:.2f}")


def print_report(release_id: int, items: int) -> None:
    result = measure(release_id)
    ratio = result["ours"] / result["alone"]
    verdict = "ok" if ratio <= 1.5 else "OVER"
    memory = result["memory"]
    print(f"\nPDF readiness report, {items} items ({result['bytes'] // 1024} KB), median of {RUNS}:")
    print(f"  {'render path (reads + template + WeasyPrint) / WeasyPrint alone':64} "
          f"{result['ours']:9.0f} {result['alone']:9.0f} {ratio:6.2f} {1.5:6.1f}  {verdict}")  # fmt: skip
    print(
        f"  one report in a fresh process: {memory['seconds']:.2f} s, peak memory {memory['after']:.0f} MB "
        f"({memory['after'] - memory['started']:.0f} MB over the {memory['started']:.0f} MB of a started process)"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    if len(sys.argv) == 3 and sys.argv[1] == "--once":
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        once(int(sys.argv[2]))
    else:
        sys.exit(__doc__)

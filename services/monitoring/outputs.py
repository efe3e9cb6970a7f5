"""The report for people (M-4): CSV for a spreadsheet, an HTML page with charts.

Both are made from the JSON report (``report.build``), so the three always agree.
The page has no script: its charts are inline SVG bars, readable without JavaScript
and printable.
"""
import csv
import io
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                        autoescape=select_autoescape(("html",)), trim_blocks=True,
                        lstrip_blocks=True)


def flatten(value, path=""):
    """(metric, value) pairs: nested keys joined by dots, list items by [index]."""
    if isinstance(value, dict):
        if not value and path:
            return []
        return [pair for key, item in value.items()
                for pair in flatten(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, list):
        return [pair for index, item in enumerate(value)
                for pair in flatten(item, f"{path}[{index}]")]
    return [(path, "" if value is None else value)]


def to_csv(report):
    """The report as CSV text (CRLF line ends): a ``metric,value`` header, then one row
    per value of :func:`flatten`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(("metric", "value"))
    writer.writerows(flatten(report))
    return out.getvalue()


def bars(mapping):
    """[(label, value, percent of the largest)] for a bar chart."""
    items = [(str(label), value) for label, value in mapping.items()]
    top = max((value for _, value in items), default=0) or 1
    return [(label, value, round(100 * value / top, 1)) for label, value in items]


def hourly(by_hour):
    """The 24 hours with their totals (all channels), for the receipt chart."""
    totals = {f"{hour:02d}": sum(by_hour.get(f"{hour:02d}", {}).values()) for hour in range(24)}
    return bars(totals)


def minutes(rows, figure):
    """Bars of one time ``figure`` (``median``, ``p90``…, in seconds) of each centre and
    service row of ``visit_times``, in minutes (0.1): rows without samples left out."""
    return bars({f"{row['centre']} / {row['service']}": round(row[figure] / 60, 1)
                 for row in rows if row[figure] is not None})


def to_html(report, report_id=None,
            title="Avtomatlaşdırılmış nəzarət hesabatı / Automated-control report"):
    """The report as an HTML page (a ``str``) with inline SVG bar charts and no script;
    ``report_id``: shown for a kept report, ``None`` for one computed now."""
    template = TEMPLATES.get_template("report.html")
    return template.render(report=report, report_id=report_id, title=title, bars=bars,
                           hourly=hourly, minutes=minutes)

"""The KPI report: one self-contained HTML page from the marts (docs/report.md).

`write_report(settings)` writes `NURTURE_HOME/reports/report-<time>.html` and
`latest.html`; `nurture report` and the scoring DAG's `report` task call it.
"""

from __future__ import annotations

from nurture.report.run import ReportResult, latest_report, report_task, write_report

__all__ = ["ReportResult", "latest_report", "report_task", "write_report"]

"""Every engagement, attribution, A/B and ROI KPI against the world's ground truth, on
DuckDB and PostgreSQL.

The checks live in `truth_engagement` and `truth_ab_roi`. They are collected here, in one
module, because `make test` hands whole files to xdist workers (`--dist loadfile`): one
file runs on one worker, which builds the shared `truth_world` once per warehouse
instead of once per file and worker.
"""

from tests.e2e.truth_ab_roi import *  # noqa: F403
from tests.e2e.truth_engagement import *  # noqa: F403

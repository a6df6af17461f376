"""The dbt project as Airflow tasks, one per layer, rendered with astronomer-cosmos.

A task per layer (seeds, staging, snapshots, marts, bi) runs `dbt build` on that
layer's nodes, their tests and unit tests included, so a failing test stops the layers
after it and the Airflow grid shows where. A task per model would cost a dbt start-up
(seconds) per node, minutes per build on a small machine. Intermediate models share the
marts task: some read marts (touch credits read `fct_engagement_events`), so the two
folders are one layer of the graph. Tests run with the layer that builds the last of
their parents (`--indirect-selection buildable`), never before a parent exists.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nurture.config import DBT_PROJECT_DIR


@dataclass(frozen=True)
class Layer:
    name: str
    select: tuple[str, ...]
    doc: str


LAYERS: tuple[Layer, ...] = (
    Layer("seeds", ("resource_type:seed",), "Reference seeds: activity types, program channels."),
    Layer("staging", ("path:models/staging",), "One view per source object: typed, deduplicated."),
    Layer("snapshots", ("resource_type:snapshot",), "History of lead statuses and stages."),
    Layer(
        "marts",
        ("path:models/intermediate", "path:models/marts"),
        "Identity, sessions, touches and stages; dimensions, facts and KPI marts (contracts).",
    ),
    Layer("bi", ("path:models/bi",), "Read-only views for BI tools, PII hashed or dropped."),
)

# After scoring: the models that read `fct_lead_scores` (lifecycle, funnel) and theirs.
SCORE_DEPENDENT = Layer(
    "score_dependent",
    ("source:scoring+",),
    "Models that read the scores (lifecycle stages, funnel), rebuilt after scoring.",
)


def layer_operator(layer: Layer, exclude: str | Sequence[str], **kwargs: Any) -> Any:
    """A cosmos `dbt build` task for one layer, on the warehouse Nurture is configured for.

    The profile is the project's own `profiles.yml` (it follows NURTURE_WAREHOUSE and the
    NURTURE_PG_* variables); `exclude` may be a template (optional sources with no data).
    """
    from cosmos.config import ProfileConfig
    from cosmos.constants import InvocationMode

    from nurture.config import load_settings
    from nurture.transform.dbt import dbt_env
    from nurture.transform.dbt_operator import DbtBuildLayerOperator

    settings = load_settings()
    profile = ProfileConfig(
        profile_name="nurture",
        target_name=settings.warehouse,
        profiles_yml_filepath=DBT_PROJECT_DIR / "profiles.yml",
    )
    return DbtBuildLayerOperator(
        task_id=f"dbt_{layer.name}",
        project_dir=str(DBT_PROJECT_DIR),
        profile_config=profile,
        select=list(layer.select),
        exclude=exclude,
        # cosmos runs dbt in a copy of the project: the warehouse path must be absolute
        env=dbt_env(settings),
        append_env=True,
        install_deps=False,
        dbt_cmd_flags=["--indirect-selection", "buildable"],
        invocation_mode=InvocationMode.DBT_RUNNER,
        doc_md=layer.doc,
        **kwargs,
    )

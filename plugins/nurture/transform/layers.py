"""The dbt project as Airflow tasks, one per layer, rendered with astronomer-cosmos.

A task per layer (staging, marts, bi) runs `dbt build` on that layer's nodes, their
tests and unit tests included, so a failing test stops the layers after it and the
Airflow grid shows where. Each task is a dbt start-up (the cached parse, the adapter,
the graph: about a second on 2 cores), so the layers are few: a task per model would
spend minutes per build on a small machine. The staging task builds the seeds, the
staging views and the snapshots of them: inside one `dbt build` a failing test still
skips what reads the failing model, and the task fails. Intermediate models share the
marts task: some read marts (touch credits read `fct_engagement_events`), so the two
folders are one layer of the graph. Tests run with the layer that builds the last of
their parents (`--indirect-selection buildable`), never before a parent exists.
`nurture bench --only marts` times the DAG against one plain `dbt build`.

A layer that builds bi views (`pseudonymise`) runs Nurture's pseudonym step
(nurture.transform.pseudonyms) before its `dbt build`, so its views and tests meet a
keyed pseudonym for every lead, and after it, for the leads the same build added; without
a key the task fails before dbt starts, saying which variable to set. `build_layers` runs
the same sequence without Airflow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from nurture.config import DBT_PROJECT_DIR

if TYPE_CHECKING:
    from nurture.config import Settings
    from nurture.transform.dbt import DbtRun


@dataclass(frozen=True)
class Layer:
    name: str
    select: tuple[str, ...]
    doc: str
    # builds bi views: the pseudonym step runs before and after its dbt build
    pseudonymise: bool = False


LAYERS: tuple[Layer, ...] = (
    Layer(
        "staging",
        ("resource_type:seed", "path:models/staging", "resource_type:snapshot"),
        "Reference seeds; one view per source object, typed and deduplicated; snapshots "
        "of lead statuses and lifecycle stages.",
    ),
    Layer(
        "marts",
        ("path:models/intermediate", "path:models/marts", "path:models/semantic"),
        "Identity, sessions, touches and stages; dimensions, facts and KPI marts (contracts).",
    ),
    Layer(
        "bi",
        ("path:models/bi",),
        "Keyed pseudonyms of the leads, then the read-only views for BI tools: PII dropped, "
        "the person only as lead_key, select granted to the BI role (PostgreSQL).",
        pseudonymise=True,
    ),
)

# After scoring: the models that read `fct_lead_scores` (lifecycle, funnel) and theirs.
SCORE_DEPENDENT = Layer(
    "score_dependent",
    ("source:scoring+",),
    "Models that read the scores (lifecycle stages, funnel), rebuilt after scoring.",
    # the bi views of the funnel and the stage history are among them
    pseudonymise=True,
)


def layer_operator(layer: Layer, exclude: str | Sequence[str], **kwargs: Any) -> Any:
    """A cosmos `dbt build` task for one layer, on the warehouse Nurture is configured for.

    The profile is the project's own `profiles.yml` (it follows NURTURE_WAREHOUSE and the
    NURTURE_PG_* variables); `exclude` may be a template (optional sources with no data).
    """
    from cosmos.config import ProfileConfig
    from cosmos.constants import InvocationMode

    from nurture.config import load_settings
    from nurture.transform.dbt import DBT_PROFILE, dbt_env, parse_cache_dir
    from nurture.transform.dbt_operator import DbtBuildLayerOperator

    settings = load_settings()
    profile = ProfileConfig(
        profile_name=DBT_PROFILE,
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
        # no manifest.json nor run_results.json: nothing reads them, and writing them
        # costs about a second per dbt call (the partial parse file is still written)
        dbt_cmd_flags=["--indirect-selection", "buildable", "--no-write-json"],
        invocation_mode=InvocationMode.DBT_RUNNER,
        parse_cache=str(parse_cache_dir(settings)),
        # No Asset per dbt model (nothing is scheduled on them; `marts` is the Asset
        # downstream DAGs follow), no compiled SQL of a whole layer in the task's fields.
        emit_datasets=False,
        should_store_compiled_sql=False,
        doc_md=layer.doc,
        pseudonymise=layer.pseudonymise,
        **kwargs,
    )


def build_layers(
    settings: Settings,
    *,
    full_refresh: bool = False,
    args: Sequence[str] = (),
    key: str | bytes | None = None,
    layers: Sequence[Layer] = LAYERS,
) -> list[DbtRun]:
    """The build_marts DAG's dbt layers in order, in this process: each layer's `dbt build`
    (`--full-refresh` if asked; `args` added to each) with the pseudonym step around the
    layers that build bi views. The key (default: the configured one) is checked before
    anything is built. Raises DbtFailed at the first layer that fails."""
    from nurture.transform.dbt import run_dbt
    from nurture.transform.pseudonyms import check_key, pseudonym_key, pseudonymise

    if any(layer.pseudonymise for layer in layers):
        key = check_key(key) if key is not None else pseudonym_key(settings)
    runs: list[DbtRun] = []
    for layer in layers:
        if layer.pseudonymise:
            pseudonymise(settings, key)
        runs.append(
            run_dbt(
                settings,
                "build",
                [
                    "--select",
                    *layer.select,
                    "--indirect-selection",
                    "buildable",
                    *(["--full-refresh"] if full_refresh else []),
                    *args,
                ],
            )
        )
        if layer.pseudonymise:
            pseudonymise(settings, key)
    return runs

"""The cosmos `dbt build` operator, failing at once when a retry cannot help.

A failing model or test fails the same way on every try; only a lock held by another
writer or a dropped warehouse connection is worth retrying (nurture.retryable).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.exceptions import AirflowSkipException
from cosmos.operators.local import DbtBuildLocalOperator

from nurture.retryable import is_transient, raise_final


class DbtBuildLayerOperator(DbtBuildLocalOperator):
    def execute(self, context: Any, **kwargs: Any) -> Any:
        try:
            return super().execute(context, **kwargs)
        except AirflowSkipException:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise
            raise_final(exc)

"""Locked packages that must work together: the Celery provider and celery itself."""

import subprocess
import sys


def test_celery_executor_imports_with_the_locked_celery():
    """celery 5.7 dropped `celery.backends.database.retry`, which the provider imports: the
    scheduler could not load the CeleryExecutor and the worker did not start."""
    code = (
        "from airflow.providers.celery.executors import celery_executor_utils as u;"
        "print(u.app.main)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]

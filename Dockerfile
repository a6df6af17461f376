# Nurture on the official Airflow 3 image: the locked dependencies from uv.lock, then the
# project itself installed editable at /opt/nurture so that `nurture.config.REPO_ROOT`
# finds include/ and dbt_project/ next to the package, as it does in a checkout.
FROM apache/airflow:3.3.2-python3.11

# The source tree, NURTURE_HOME and the config dir, writable by the airflow user and group 0
# (containers run as ${AIRFLOW_UID}:0, as in Airflow's own compose file).
USER root
RUN mkdir -p /opt/nurture /opt/airflow/nurture /opt/airflow/config \
    && chown airflow:0 /opt/nurture /opt/airflow/nurture /opt/airflow/config \
    && chmod g+rwx /opt/nurture /opt/airflow/nurture /opt/airflow/config
USER airflow
WORKDIR /opt/nurture

# Dependencies first (cached while only the code changes). The image's own extras
# (celery, redis, fab, ...) stay installed; the lock pins apache-airflow==3.3.2 like the image.
# uv is pinned to the version that writes our uv.lock (the image's own uv may be older).
ARG UV_VERSION=0.13.9
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN set -eux; \
    pip install --no-cache-dir "uv==${UV_VERSION}"; \
    python -m uv export --frozen --no-dev --no-emit-project --no-hashes -o /tmp/requirements.txt; \
    python -m uv pip install --no-cache -r /tmp/requirements.txt; \
    rm /tmp/requirements.txt

COPY --chown=airflow:0 plugins/ ./plugins/
COPY --chown=airflow:0 dags/ ./dags/
COPY --chown=airflow:0 include/ ./include/
COPY --chown=airflow:0 dbt_project/ ./dbt_project/
# Group 0 may write the tree too (dbt writes target/ and logs/ under dbt_project/).
RUN python -m uv pip install --no-cache --no-deps -e /opt/nurture \
    && python -c "import nurture.config as c; assert str(c.REPO_ROOT) == '/opt/nurture', c.REPO_ROOT" \
    && chmod -R g+rwX /opt/nurture

ENV NURTURE_HOME=/opt/airflow/nurture \
    AIRFLOW__CORE__DAGS_FOLDER=/opt/nurture/dags \
    AIRFLOW__CORE__PLUGINS_FOLDER=/opt/nurture/plugins \
    AIRFLOW__CORE__LOAD_EXAMPLES=false

WORKDIR /opt/airflow

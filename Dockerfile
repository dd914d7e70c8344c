# The one image of the four services (`python -m shaobing_<service>`) and the migration Job
# (`python -m shaobing_runtime.database`). Multi-stage: dependencies are built in the first
# stage, the second has no compiler and runs as user 10001 on a read-only root filesystem.
# Pinned: the base image by version (pin its digest in your registry mirror), Python packages by
# the project's pyproject.toml.
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY contracts contracts
COPY libs libs
COPY services services
COPY tools tools
COPY migrations migrations
COPY rules rules
# Editable: the migrations and the default rules are read from /app at run time.
RUN /opt/venv/bin/pip install -e /app

FROM python:3.11.7-slim-bookworm
RUN groupadd --gid 10001 shaobing && useradd --uid 10001 --gid 10001 --no-create-home shaobing
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
USER 10001:10001
EXPOSE 8000 8001 8002 8003
CMD ["python", "-m", "shaobing_api"]

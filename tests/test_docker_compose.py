"""docker-compose.yml describes the production processes: PostgreSQL, Redis, and one
app image run as web, worker and beat. No Docker engine is needed: docker-compose
validates the file offline, and the YAML is read directly."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
APP_SERVICES = ("web", "worker", "beat")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _docker_compose(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("docker-compose") is None:
        pytest.skip("docker-compose is not installed (apt-get install -y docker-compose)")
    env = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "ALLOWED_HOSTS"}}
    return subprocess.run(
        ["docker-compose", "-f", str(COMPOSE_FILE), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docker_compose_accepts_the_file():
    result = _docker_compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_resolved_app_services_share_one_image_and_configuration():
    result = _docker_compose("config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    builds = {yaml.safe_dump(services[name]["build"]) for name in APP_SERVICES}
    images = {services[name]["image"] for name in APP_SERVICES}
    environments = [services[name]["environment"] for name in APP_SERVICES]
    assert len(builds) == 1 and len(images) == 1
    assert all(env == environments[0] for env in environments)
    # the trial default is one Django's deploy check (security.W009) flags as insecure
    assert environments[0]["SECRET_KEY"].startswith("django-insecure-")
    assert environments[0]["DEBUG"] == "false"


def test_the_five_services(compose):
    assert set(compose["services"]) == {"postgres", "redis", "web", "worker", "beat"}
    assert compose["services"]["postgres"]["image"] == "postgres:15"
    assert compose["services"]["redis"]["image"] == "redis:7"
    assert "pg_isready" in " ".join(compose["services"]["postgres"]["healthcheck"]["test"])
    assert "ping" in compose["services"]["redis"]["healthcheck"]["test"]


def test_web_worker_and_beat_are_one_image_build(compose):
    services = compose["services"]
    first = services[APP_SERVICES[0]]
    assert first["build"]["context"] == "."
    for name in APP_SERVICES:
        assert services[name]["build"] == first["build"], name
        assert services[name]["image"] == first["image"], name
        assert services[name]["environment"] == first["environment"], name


def test_app_environment_points_at_the_compose_services(compose):
    env = compose["services"]["web"]["environment"]
    assert env["DATABASE_URL"] == "postgres://feemgmt:feemgmt@postgres:5432/feemgmt"
    assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
    assert env["DEBUG"] == "false"
    assert env["SECRET_KEY"].startswith("${SECRET_KEY")


def test_processes_start_in_order(compose):
    services = compose["services"]
    web = services["web"]
    assert web["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    command = " ".join(web["command"])
    assert "migrate --noinput" in command and "gunicorn feemgmt.wsgi" in command
    assert "/admin/login/" in " ".join(web["healthcheck"]["test"])
    # migrations come from web: worker and beat wait until it is healthy
    for name in ("worker", "beat"):
        assert services[name]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert services["worker"]["command"][:4] == ["celery", "-A", "feemgmt", "worker"]
    beat = " ".join(services["beat"]["command"])
    assert "--scheduler django_celery_beat.schedulers:DatabaseScheduler" in beat


def test_dockerfile_runs_gunicorn_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    lines = [line.strip() for line in dockerfile.splitlines()]
    assert "FROM python:3.11-slim" in lines
    assert "RUN pip install -r requirements/base.lock" in lines
    assert (ROOT / "requirements" / "base.lock").is_file()
    assert "collectstatic --noinput" in dockerfile
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in {"root", "0"}
    assert lines.index(f"USER {users[-1]}") < next(
        i for i, line in enumerate(lines) if line.startswith("CMD ")
    )
    assert '"gunicorn", "feemgmt.wsgi"' in dockerfile

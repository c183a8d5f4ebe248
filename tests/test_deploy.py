"""The deploy files agree with the service: compose.yaml's topology and settings, the nginx site
it mounts, and the Dockerfile's extras (the containers themselves: test_container, test_nginx)."""

import yaml

from conftest import ROOT
from digits.service.config import SETTINGS


def compose():
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_puts_nginx_in_front_of_several_service_containers_with_redis_and_postgres():
    services = compose()["services"]
    assert set(services) == {"nginx", "digits", "redis", "postgres"}
    digits = services["digits"]
    assert digits["build"]["context"] == "." and digits["build"]["args"]["EXTRAS"] == "true"
    assert digits["deploy"]["replicas"] >= 2
    environment = digits["environment"]
    assert environment["DIGITS_RATE_LIMIT_STORAGE"].startswith("redis://redis:")
    assert environment["DIGITS_DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in environment["DIGITS_DATABASE_URL"]
    assert environment["DIGITS_TRUSTED_PROXIES"] == "1"  # exactly one proxy: nginx
    assert services["nginx"]["ports"] and not digits.get("ports")  # only nginx faces clients


def test_compose_sets_only_settings_the_service_knows():
    environment = compose()["services"]["digits"]["environment"]
    unknown = {name for name in environment if name.startswith("DIGITS_")
               and name.removeprefix("DIGITS_") not in SETTINGS}
    assert unknown == set()


def test_compose_mounts_the_nginx_site_the_nginx_tests_run():
    volumes = compose()["services"]["nginx"]["volumes"]
    mounted = {volume.split(":")[0]: volume.split(":")[1] for volume in volumes}
    assert mounted["./deploy/nginx/digits.conf"] == "/etc/nginx/digits.conf"
    assert all((ROOT / host_path).is_file() for host_path in mounted)
    site = (ROOT / "deploy" / "nginx" / "compose.conf").read_text()
    assert "include /etc/nginx/digits.conf;" in site


def test_the_dockerfile_extras_install_what_the_compose_features_need():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "requirements-extras.txt" in dockerfile and 'ARG EXTRAS=false' in dockerfile
    extras = (ROOT / "requirements-extras.txt").read_text()
    assert "redis==" in extras and "psycopg" in extras and "flask-limiter==" in extras


def test_compose_needs_nothing_that_podman_compose_skips():
    """podman-compose starts `deploy.replicas` only with `mode: replicated` written, and skips
    health conditions on podman < 4.6: the file must work without them (a replica restarted by
    its policy until PostgreSQL answers; nginx following the running replicas)."""
    services = compose()["services"]
    assert services["digits"]["deploy"]["mode"] == "replicated"
    assert services["digits"]["restart"] == "unless-stopped"
    assert services["nginx"]["depends_on"] == ["digits"]  # started, not healthy
    assert services["nginx"]["command"][-1] == "/etc/nginx/compose-upstreams.sh"


def test_compose_gives_gunicorn_its_graceful_timeout_before_the_engine_kills_it():
    import re
    graceful = int(re.search(r"^graceful_timeout = (\d+)", (ROOT / "gunicorn.conf.py").read_text(),
                             re.M).group(1))
    grace = compose()["services"]["digits"]["stop_grace_period"]
    assert int(grace.removesuffix("s")) > graceful

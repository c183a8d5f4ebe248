"""nginx in front of gunicorn instances, configured with deploy/nginx/digits.conf as deployed,
for the tests and the slow-client benchmark (Debian's nginx; no root needed beyond its binary)."""

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from bench.run import free_port, wait_listening, wait_ready

SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "digits.conf"


def nginx_binary():
    """The nginx executable (Debian puts it in /usr/sbin), or None where it is not installed."""
    return shutil.which("nginx", path=f"{os.environ.get('PATH', '')}:/usr/sbin")


def nginx_config(folder, port, upstreams, site=SITE):
    """A whole nginx.conf: the `site` file included as docs/deploy.md includes it, in front of
    `upstreams` (base URLs), its temporary files and logs in `folder`."""
    servers = "\n".join(f"        server {url.split('://', 1)[1]};" for url in upstreams)
    return f"""
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    upstream digits {{
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        include {site};
    }}
}}
"""


@contextmanager
def nginx_serving(upstreams, ready=True, site=None):
    """nginx on a free port in front of `upstreams`; yields its base URL once GET /health
    answers through it (`ready`) or once it listens, and stops it after. `site` replaces the
    text of deploy/nginx/digits.conf (a test that cannot wait for a timeout shortens it).

    Raises FileNotFoundError without nginx, RuntimeError if it does not come up."""
    binary = nginx_binary()
    if binary is None:
        raise FileNotFoundError("nginx is not installed (apt-get install nginx)")
    folder = Path(tempfile.mkdtemp(prefix="digits-nginx-"))
    port = free_port()
    if site is not None:
        (folder / "site.conf").write_text(site)
    (folder / "nginx.conf").write_text(
        nginx_config(folder, port, upstreams, folder / "site.conf" if site else SITE))
    log = open(folder / "output.log", "w+")
    process = subprocess.Popen([binary, "-c", str(folder / "nginx.conf"), "-p", str(folder)],
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        try:
            if ready:
                wait_ready(url, "/health", process=process)
            else:
                wait_listening(port, process)
        except RuntimeError as error:
            log.seek(0)
            raise RuntimeError(f"{error}\n{log.read()}\n"
                               f"{(folder / 'error.log').read_text()}") from None
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)


"""Debian's nginx running deploy/nginx/plunge.conf as a plain process in a folder of its own,
with a throwaway TLS certificate: what tests/browser/test_deployment.py and `make bench-load`'s
crowd scenario put in front of the gunicorn instances.

Only the ports, the certificate, the static folder, the log folder and the cache folder of the
site file change; the rest of it runs as shipped."""

import datetime
import ipaddress
import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

from bench.measure import ROOT, _stat

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
MIME_TYPES = Path("/etc/nginx/mime.types")
SITE = ROOT / "deploy" / "nginx" / "plunge.conf"


def missing() -> str:
    """Why nginx cannot run here, or "" if it can."""
    if not Path(NGINX).exists() or not MIME_TYPES.exists():
        return "nginx is not installed (apt-get install nginx)"
    return ""


def certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, valid for a day."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def site(
    folder: Path, https_port: int, http_port: int, upstreams: list[int], cert, key, cache=True
) -> str:
    """deploy/nginx/plunge.conf with this machine's ports and folders, nothing else changed
    (but the progress partials' microcache switched off, with `cache=False`)."""
    text = SITE.read_text()
    if not cache:
        assert "proxy_cache plunge_progress;" in text
        text = text.replace("proxy_cache plunge_progress;", "proxy_cache off;")
    swaps = {
        "listen 443 ssl": f"listen 127.0.0.1:{https_port} ssl",
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "server 127.0.0.1:8001;": f"server 127.0.0.1:{upstreams[0]};",
        "server 127.0.0.1:8002;": f"server 127.0.0.1:{upstreams[1]};",
        "/etc/letsencrypt/live/abseil.example.org/fullchain.pem": str(cert),
        "/etc/letsencrypt/live/abseil.example.org/privkey.pem": str(key),
        "/srv/plunge/static/": f"{ROOT}/static/",
        "/var/log/nginx/": f"{folder}/",
        "/var/lib/nginx/plunge-progress": f"{folder}/progress-cache",
    }
    for old, new in swaps.items():
        assert old in text, f"deploy/nginx/plunge.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


def main_conf(folder: Path, site_file: Path, workers: int = 1, connections: int = 256) -> str:
    """A main nginx.conf for an unprivileged run in `folder` that includes the site."""
    temp = {name: folder / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir()
    return f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes {workers};
worker_rlimit_nofile {connections * 2 + 64};
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections {connections}; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    access_log off;
    include {site_file};
}}
"""


class Nginx:
    """nginx on https (`url`) and http (`http_port`) in front of `upstreams`, in `folder`;
    stopped on leaving. `cert` is the certificate a client must trust."""

    def __init__(self, folder: Path, upstreams: list[int], workers=1, connections=256, cache=True):
        from bench.measure import free_port

        self.folder = folder
        self.https_port, self.http_port = free_port(), free_port()
        self.url = f"https://127.0.0.1:{self.https_port}"
        self.cert, self.key = certificate(folder)
        site_file = folder / "plunge.conf"
        site_file.write_text(
            site(folder, self.https_port, self.http_port, upstreams, self.cert, self.key, cache)
        )
        conf = folder / "nginx.conf"
        conf.write_text(main_conf(folder, site_file, workers, connections))
        self.error_log = folder / "error.log"
        with self.error_log.open("ab") as out:
            self.process = subprocess.Popen(
                [NGINX, "-c", str(conf), "-p", str(folder), "-e", str(self.error_log)]
                + ["-g", "daemon off;"],
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def __enter__(self) -> "Nginx":
        return self

    def __exit__(self, *_exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def wait_until_serving(self, timeout: float = 30) -> None:
        """Until /healthz answers 200 through nginx (and so through an instance)."""
        import ssl

        context = ssl.create_default_context(cafile=str(self.cert))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.error_log.read_text()}")
            try:
                with urllib.request.urlopen(
                    self.url + "/healthz", timeout=10, context=context
                ) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"nginx did not answer within {timeout} s: {self.error_log}")

    def cpu_seconds(self) -> float:
        """User plus system CPU time of nginx's master and workers so far."""
        pids = [self.process.pid]
        for entry in Path("/proc").iterdir():
            stat = _stat(int(entry.name)) if entry.name.isdigit() else None
            if stat and int(stat[1]) == self.process.pid:
                pids.append(int(entry.name))
        stats = [_stat(pid) for pid in pids]
        ticks = sum(int(stat[11]) + int(stat[12]) for stat in stats if stat)
        return ticks / os.sysconf("SC_CLK_TCK")

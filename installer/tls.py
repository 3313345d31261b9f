"""The hall's own certificate authority and the certificates it issues, with the openssl CLI.

    python3 -m installer.tls DIR --hall-config /etc/lobby/hall.toml --host NAME... \\
        [--group broker=mosquitto] [--group web=lobby] [--dry-run]

In DIR (``/etc/lobby/tls``): ``ca.key`` (0600, the installer's alone) and ``ca.crt`` (what
every device and browser trusts), made once; ``broker.crt``/``broker.key`` for Mosquitto's LAN
listener and ``web.crt``/``web.key`` for the manager's app and the status page, each key
0640 and readable by its ``--group``. A certificate names every ``--host`` and every host in the
hall config's ``[web] origins`` and ``[hall] status_url_base``; it is issued again only when
it is missing, not signed by this CA, names other hosts, or has less than RENEW_DAYS left, so
a second run says ``unchanged``. Standard library only, like installer.configure.
"""

from __future__ import annotations

import argparse
import grp
import ipaddress
import os
import re
import secrets
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

CA_DAYS = 3650
CERT_DAYS = 825  # Apple's devices refuse server certificates valid longer, even a private CA's
RENEW_DAYS = 60
CURVE = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
SERVICES = ("broker", "web")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_NAME_RE = re.compile(rf"^{_LABEL}(\.{_LABEL})*$")


class TlsError(RuntimeError):
    """openssl failed, or an input cannot be used; the message says which."""


def openssl(*args: str) -> str:
    """Run openssl; its stdout, or TlsError with its stderr."""
    done = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise TlsError(f"openssl {args[0]} failed: {done.stderr.strip()}")
    return done.stdout


def _host(text: str) -> str:
    """A host name or IP address, in the form a certificate's subjectAltName lists it."""
    text = text.strip().strip("[]").lower()
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if not _NAME_RE.match(text):
        raise TlsError(f"{text!r} is not a host name or an IP address")
    return text


def config_hosts(text: str) -> set[str]:
    """The hosts a hall config sends browsers to: [web] origins, [hall] status_url_base."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TlsError(f"hall config: not valid TOML: {exc}") from exc
    urls = [*data.get("web", {}).get("origins", []),
            data.get("hall", {}).get("status_url_base", "")]
    return {_host(host) for url in urls if isinstance(url, str)
            if (host := urlsplit(url).hostname)}


def subject_alt_name(hosts: set[str]) -> str:
    """``DNS:name,IP:address,...`` for openssl's subjectAltName."""
    def kind(host: str) -> str:
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return "DNS"
        return "IP"
    return ",".join(f"{kind(h)}:{h}" for h in sorted(hosts))


def cert_hosts(cert: Path) -> set[str]:
    """The DNS names and IP addresses a certificate's subjectAltName lists."""
    text = openssl("x509", "-in", str(cert), "-noout", "-ext", "subjectAltName")
    found = set()
    for item in " ".join(text.splitlines()[1:]).split(","):
        kind, _, value = item.strip().partition(":")
        if kind in ("DNS", "IP Address") and value:
            found.add(_host(value))
    return found


def still_good(cert: Path, ca: Path, hosts: set[str]) -> bool:
    """Whether ``cert`` is signed by ``ca``, names exactly ``hosts`` and is not due renewal."""
    if not cert.exists() or not ca.exists():
        return False
    verify = subprocess.run(["openssl", "verify", "-CAfile", str(ca), str(cert)],
                            capture_output=True, check=False)
    due = subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-checkend",
                          str(RENEW_DAYS * 86400)], capture_output=True, check=False)
    return verify.returncode == 0 and due.returncode == 0 and cert_hosts(cert) == hosts


def make_ca(directory: Path, hall: str) -> None:
    """ca.key (0600) and ca.crt (0644): a CA that can sign server certificates only. Both
    are made in a private temporary directory, so the key is never readable by others."""
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        key, crt = Path(tmp, "ca.key"), Path(tmp, "ca.crt")
        openssl("req", "-x509", *CURVE, "-days", str(CA_DAYS), "-keyout", str(key),
                "-out", str(crt), "-subj", f"/O=lobby/CN=lobby hall {hall} CA",
                "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        os.chmod(key, 0o600)
        os.chmod(crt, 0o644)
        os.replace(key, directory / "ca.key")
        os.replace(crt, directory / "ca.crt")


def issue(directory: Path, name: str, hosts: set[str], group: str | None) -> None:
    """NAME.key (0640, root:group) and NAME.crt (0644), signed by the CA, for ``hosts``."""
    key, crt = directory / f"{name}.key", directory / f"{name}.crt"
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        csr, ext, new_key = Path(tmp, "req.csr"), Path(tmp, "ext.cnf"), Path(tmp, "new.key")
        ext.write_text(f"subjectAltName={subject_alt_name(hosts)}\n"
                       "basicConstraints=critical,CA:FALSE\n"
                       "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
                       "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n",
                       encoding="utf-8")
        openssl("req", "-new", *CURVE, "-keyout", str(new_key), "-out", str(csr),
                "-subj", f"/O=lobby/CN={sorted(hosts)[0]}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(directory / "ca.crt"),
                "-CAkey", str(directory / "ca.key"), "-set_serial",
                f"0x{secrets.token_hex(16)}", "-days", str(CERT_DAYS), "-extfile", str(ext),
                "-out", str(Path(tmp, "new.crt")))
        os.chmod(new_key, 0o640)
        if group is not None and os.geteuid() == 0:
            os.chown(new_key, 0, grp.getgrnam(group).gr_gid)
        os.chmod(Path(tmp, "new.crt"), 0o644)
        os.replace(new_key, key)
        os.replace(Path(tmp, "new.crt"), crt)


def ensure(directory: Path, hall: str, hosts: set[str], groups: dict[str, str],
           dry_run: bool) -> list[str]:
    """Make the CA if missing and (re)issue each service's certificate that needs it."""
    said = []
    ca = directory / "ca.crt"
    if (directory / "ca.key").exists() and ca.exists():
        said.append(f"unchanged {ca}")
    elif dry_run:
        said.append(f"would write {ca} and its key")
    else:
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o755)  # the certificates are public; each key has its own mode
        make_ca(directory, hall)
        said.append(f"wrote {ca} and its key (0600)")
    for name in SERVICES:
        crt = directory / f"{name}.crt"
        if still_good(crt, ca, hosts):
            said.append(f"unchanged {crt}")
        elif dry_run:
            said.append(f"would write {crt} for {', '.join(sorted(hosts))}")
        else:
            issue(directory, name, hosts, groups.get(name))
            said.append(f"wrote {crt} for {', '.join(sorted(hosts))}")
    return said


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python3 -m installer.tls", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path, help="where the CA and certificates live")
    parser.add_argument("--hall-config", type=Path, help="hosts of [web] origins and "
                                                         "[hall] status_url_base (if it exists)")
    parser.add_argument("--host", action="append", default=[], help="a name or address to "
                                                                    "certify (repeat)")
    parser.add_argument("--group", action="append", default=[], metavar="SERVICE=GROUP",
                        help="group that reads a service's key, e.g. broker=mosquitto")
    parser.add_argument("--dry-run", action="store_true", help="say what would change")
    return parser


def _run(args: argparse.Namespace) -> list[str]:
    hosts = {_host(h) for h in args.host}
    hall = "hall"
    if args.hall_config is not None and args.hall_config.exists():
        text = args.hall_config.read_text(encoding="utf-8")
        hosts |= config_hosts(text)
        hall = str(tomllib.loads(text).get("hall", {}).get("id", hall))
    if not hosts:
        raise TlsError("no host to certify: give --host NAME")
    groups = dict(g.partition("=")[::2] for g in args.group)
    unknown = set(groups) - set(SERVICES)
    if unknown:
        raise TlsError(f"--group: no service {sorted(unknown)[0]!r} (broker or web)")
    return ensure(args.directory, hall, hosts, groups, args.dry_run)


def main(argv: list[str] | None = None) -> int:
    """Command line entry: 0 done, 2 with the problem named."""
    args = _parser().parse_args(argv)
    try:
        for line in _run(args):
            print(f"    {line}")
    except (TlsError, OSError, KeyError) as exc:
        print(f"install: tls: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

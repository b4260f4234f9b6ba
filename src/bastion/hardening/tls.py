"""TLS for ``bastion serve --certfile F --keyfile K``: TLS 1.2 and 1.3 only, Mozilla's
"intermediate" configuration (https://ssl-config.mozilla.org/, guidelines v5.7).

- versions: TLS 1.2 and 1.3; SSLv3, TLS 1.0 and 1.1 refused;
- TLS 1.2 cipher suites: ECDHE (ECDSA or RSA) with AES-GCM or ChaCha20-Poly1305, nothing else;
  TLS 1.3's are OpenSSL's three (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305), all in the profile;
- key-exchange groups: X25519, prime256v1, secp384r1 (see ``OPENSSL_CONF`` below);
- no compression, no renegotiation (secure renegotiation is still announced), no session tickets
  (OpenSSL never rotates a context's ticket key: forward secrecy would last as long as a worker),
  the client's cipher order (every suite offered is strong, so the client picks what is fastest
  for it).

gunicorn builds the server's context through its ``ssl_context(config, default_ssl_context_factory)``
hook (gunicorn >= 21); ``gunicorn_ssl_context`` is that hook. gunicorn calls it for every
connection, so each worker builds the context once and keeps it (a renewed certificate is read by
the workers a SIGHUP starts).

No Django here: the command line uses this module before Django is set up.
"""

from __future__ import annotations

import os
import ssl
import sys
from pathlib import Path

# Mozilla intermediate v5.7, TLS 1.2, in the profile's order, without its DHE suites (finite-field
# Diffie-Hellman would need parameters of our own and adds nothing for the clients the profile
# names, which all speak ECDHE).
CIPHERS = ":".join([
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
])
GROUPS = ("X25519", "prime256v1", "secp384r1")
# Groups OpenSSL 3 offers by default that the profile rejects: the self-check proves they are off.
REFUSED_GROUPS = ("secp521r1", "X448")

# Why an OpenSSL configuration file, and why re-execute the server to use it:
#
# Python 3.11's ssl module has no way to give a context a list of key-exchange groups.
# ``SSLContext.set_ecdh_curve(name)`` calls SSL_CTX_set1_groups with exactly one group, so it
# could give "prime256v1 only" (no X25519) or "X25519 only" (not the older clients the profile
# covers), never the profile's three. OpenSSL's own defaults add secp521r1, X448 and the ffdhe
# groups, which the profile (and sslyze) reject. What does set the list is an OpenSSL
# configuration file's ``Groups`` line in its ``system_default`` section, which OpenSSL applies to
# every SSL_CTX it makes. OpenSSL reads that file once, when it is first initialised, and Python
# initialises it early (``hashlib`` does, and Django imports it long before the server starts):
# setting ``OPENSSL_CONF`` inside a running process is too late (checked: the groups stay
# OpenSSL's). So ``serve`` writes the file into the data dir and re-executes itself once with
# ``OPENSSL_CONF`` pointing to it, as the very first thing; the same process id goes on.
# The file holds nothing else but TLS 1.2 as the least version (as Debian's default file does); it
# also applies to this process's outgoing TLS (identity providers, S3, KMS) and to the job worker
# it starts, and every TLS peer speaks X25519 or P-256. An ``OPENSSL_CONF`` the operator set is
# left alone (it may load providers such as FIPS): their file needs the ``Groups`` line, and
# ``check_groups`` (a handshake in memory per group, at start) refuses to serve until it has it.
OPENSSL_CONF_TEXT = f"""\
# Written by `bastion serve` (bastion.hardening.tls) for its TLS listener; rewritten at every start.
# Python's ssl module cannot restrict the key-exchange groups; OpenSSL's system_default can.
openssl_conf = bastion_openssl_init

[bastion_openssl_init]
ssl_conf = bastion_ssl_configuration

[bastion_ssl_configuration]
system_default = bastion_tls_defaults

[bastion_tls_defaults]
Groups = {":".join(GROUPS)}
MinProtocol = TLSv1.2
"""


class TLSConfigError(Exception):
    """The certificate, key or OpenSSL set-up cannot give the promised TLS; one line for the operator."""


def check_files(certfile: str | None, keyfile: str | None) -> None:
    """Both or neither, and each readable: before anything else, so the error is the first thing seen."""
    if bool(certfile) != bool(keyfile):
        raise TLSConfigError("--certfile and --keyfile go together (give both, or neither for plain HTTP)")
    for option, path in (("--certfile", certfile), ("--keyfile", keyfile)):
        if not path:  # neither given: plain HTTP
            continue
        try:
            with open(path, "rb") as handle:
                handle.read(1)
        except OSError as exc:
            raise TLSConfigError(f"cannot read {option} {path}: {exc.strerror or exc}") from None


def openssl_conf_path(data_dir: Path) -> Path:
    return data_dir / "openssl.cnf"


def reexec_with_openssl_conf(data_dir: Path, argv: list[str]) -> None:
    """Re-execute ``python -m bastion.cli ARGV`` with ``OPENSSL_CONF`` set, unless it is set already.

    Returns only when no re-execution is needed (ours is in force, or the operator chose another).
    """
    if os.environ.get("OPENSSL_CONF"):
        return
    path = openssl_conf_path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(OPENSSL_CONF_TEXT)
    partial.replace(path)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, "-m", "bastion.cli", *argv], {**os.environ, "OPENSSL_CONF": str(path)})


def _no_passphrase(*_args) -> bytes:
    raise TLSConfigError("the --keyfile is encrypted: give an unencrypted key (kept readable only by the server)")


def server_context(certfile: str, keyfile: str) -> ssl.SSLContext:
    """A new listening context for these files (the command line builds one to check them first)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_3
    context.set_ciphers(CIPHERS)
    context.options |= ssl.OP_NO_COMPRESSION | ssl.OP_NO_RENEGOTIATION | ssl.OP_NO_TICKET
    context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE  # Python sets it by default; the profile has it off
    context.verify_mode = ssl.CERT_NONE  # no client certificates
    try:
        context.load_cert_chain(certfile, keyfile, password=_no_passphrase)
    except ssl.SSLError as exc:
        raise TLSConfigError(f"cannot use --certfile {certfile} with --keyfile {keyfile} (a PEM certificate "
                             f"and its own PEM key?): {exc.reason or exc.strerror or exc}") from None
    return context


_contexts: dict[tuple[int, str, str], ssl.SSLContext] = {}


def gunicorn_ssl_context(config, default_ssl_context_factory) -> ssl.SSLContext:
    """gunicorn's ``ssl_context`` server hook: our context instead of gunicorn's default one.

    gunicorn asks for every connection; each worker process builds it once. Never in the arbiter,
    so workers it forks after a SIGHUP read a renewed certificate.
    """
    key = (os.getpid(), config.certfile, config.keyfile)
    context = _contexts.get(key)
    if context is None:
        context = _contexts[key] = server_context(config.certfile, config.keyfile)
    return context


def handshake(server: ssl.SSLContext, client: ssl.SSLContext) -> bool:
    """Whether ``client`` and ``server`` complete a handshake, in memory (no socket)."""
    client_in, client_out, server_in, server_out = (ssl.MemoryBIO() for _ in range(4))
    ends = [
        (client.wrap_bio(client_in, client_out, server_side=False), client_out, server_in),
        (server.wrap_bio(server_in, server_out, server_side=True), server_out, client_in),
    ]
    done = [False, False]
    for _ in range(20):
        for index, (end, outgoing, peer_incoming) in enumerate(ends):
            if not done[index]:
                try:
                    end.do_handshake()
                    done[index] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError:
                    return False
            data = outgoing.read()
            if data:
                peer_incoming.write(data)
        if all(done):
            return True
    return False


def _client_with_group(group: str) -> ssl.SSLContext:
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.check_hostname = False
    client.verify_mode = ssl.CERT_NONE
    client.set_ecdh_curve(group)  # the client offers this one group only
    return client


def check_groups(context: ssl.SSLContext) -> None:
    """Refuse to serve unless the server agrees on each profile group and on no other one."""
    conf = os.environ.get("OPENSSL_CONF", "")
    refused = [group for group in GROUPS if not handshake(context, _client_with_group(group))]
    accepted = [group for group in REFUSED_GROUPS if handshake(context, _client_with_group(group))]
    if refused or accepted:
        raise TLSConfigError(
            f"OpenSSL's key-exchange groups are not Mozilla's intermediate ones (accepts {accepted or 'none'} "
            f"that it should refuse, refuses {refused or 'none'}): OPENSSL_CONF={conf or '(unset)'} needs "
            f"'Groups = {':'.join(GROUPS)}' in its ssl_conf system_default section")

"""``bastion serve --certfile F --keyfile K``: HTTPS only, TLS 1.2 and 1.3, Mozilla's "intermediate"
configuration, checked on the real server by a real scanner (sslyze) and by handshakes of our own.

sslyze cannot live in the project's environment: every sslyze 6 pins ``cryptography<47`` and Bastion
needs ``cryptography>=50`` (uv then picks sslyze 1.3.4, from 2018, which has no Mozilla check). So it
runs in an environment of its own, ``uv tool run --from sslyze==VERSION`` (uv's cache keeps it).
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import urllib.parse
import warnings
from pathlib import Path

import pytest

from bastion.hardening import tls
from tests.live_server import ROOT, tls_server
from tests.peers.certificates import make_ca_and_leaf

SSLYZE = "sslyze==6.3.1"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    ca, cert, key = make_ca_and_leaf(tmp_path_factory.mktemp("pki"))
    return {"ca": ca, "cert": cert, "key": key}


@pytest.fixture(scope="module")
def server(pki):
    with tls_server(pki["cert"], pki["key"], pki["ca"]) as live:
        yield live


def _port(server) -> int:
    return urllib.parse.urlsplit(server.url).port


def _client(pki, *, versions=None, ciphers=None, group=None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki["ca"]))
    if versions:
        with warnings.catch_warnings():  # TLSVersion.TLSv1 and TLSv1_1 are deprecated: that is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version, context.maximum_version = versions
    if ciphers:
        context.set_ciphers(ciphers)
    if group:
        context.set_ecdh_curve(group)  # offer this key-exchange group only
    return context


def _handshake(server, context: ssl.SSLContext) -> tuple[str, str]:
    """(protocol version, cipher) of a completed handshake; raises ssl.SSLError when refused."""
    with socket.create_connection(("127.0.0.1", _port(server)), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as wrapped:
            return wrapped.version(), wrapped.cipher()[0]


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    assert uv, "uv is needed to run sslyze in an environment of its own (see the module docstring)"
    return uv


def test_sslyze_finds_the_server_compliant_with_mozilla_intermediate(server, pki):
    command = [_uv(), "tool", "run", "--python", f"{sys.version_info[0]}.{sys.version_info[1]}", "--from", SSLYZE,
               "python", "-m", "sslyze", f"localhost:{_port(server)}", "--mozilla_config=intermediate",
               "--certinfo_ca_file", str(pki["ca"])]
    env = {key: value for key, value in os.environ.items() if key not in {"VIRTUAL_ENV", "OPENSSL_CONF"}}
    env["UV_PYTHON_DOWNLOADS"] = "never"  # the machine's Python; nothing from outside the registries
    result = subprocess.run(command, capture_output=True, text=True, timeout=280, env=env, cwd="/")
    output = result.stdout + result.stderr
    # sslyze exits 0 also when it could not reach the server at all: the verdict line must be there.
    assert result.returncode == 0 and re.search(r"localhost:\d+: OK - Compliant\.", output), (
        f"sslyze: server NOT compliant with Mozilla intermediate (exit {result.returncode}):\n{output}")
    curves = re.search(r"Supported curves:\s*(.+)", output)
    assert curves and set(curves.group(1).replace(" ", "").split(",")) == {"X25519", "secp256r1", "secp384r1"}, output


@pytest.mark.parametrize("version", ["TLSv1", "TLSv1_1"])
def test_tls_1_0_and_1_1_are_refused_by_the_server(server, pki, version):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        old = getattr(ssl.TLSVersion, version)
    # OpenSSL 3 will not even offer TLS 1.0/1.1 above security level 0: lower it, so that the
    # refusal below is the server's (its protocol_version alert), not our own client's.
    context = _client(pki, versions=(old, old), ciphers="DEFAULT:@SECLEVEL=0")
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(server, context)
    assert refused.value.reason == "TLSV1_ALERT_PROTOCOL_VERSION", refused.value


def test_tls_1_3_and_1_2_succeed_with_aead_suites_only(server, pki):
    version, cipher = _handshake(server, _client(pki, versions=(ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_3)))
    assert version == "TLSv1.3" and cipher in {"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384",
                                               "TLS_CHACHA20_POLY1305_SHA256"}
    tls12 = (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_2)
    for suite in ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-CHACHA20-POLY1305"):
        assert _handshake(server, _client(pki, versions=tls12, ciphers=suite)) == ("TLSv1.2", suite)
    # CBC suites, which OpenSSL would take by default, are refused.
    with pytest.raises(ssl.SSLError) as refused:
        _handshake(server, _client(pki, versions=tls12, ciphers="ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA"))
    assert refused.value.reason == "SSLV3_ALERT_HANDSHAKE_FAILURE", refused.value


def test_only_mozillas_key_exchange_groups_are_agreed(server, pki):
    for group in tls.GROUPS:
        assert _handshake(server, _client(pki, group=group))[0] == "TLSv1.3", group
    for group in tls.REFUSED_GROUPS:  # OpenSSL 3's defaults include them; the profile does not
        with pytest.raises(ssl.SSLError):
            _handshake(server, _client(pki, group=group))


def test_plain_http_gets_no_page(server):
    connection = http.client.HTTPConnection("127.0.0.1", _port(server), timeout=10)
    try:
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException):
        status = None
    finally:
        connection.close()
    assert status != 200


def _cookies(response) -> dict[str, str]:
    return {header.split("=", 1)[0]: header for header in response.headers.get_all("Set-Cookie") or []}


def test_django_sees_tls_requests_as_secure_and_marks_the_session_cookie_secure(server, pki):
    """gunicorn sets wsgi.url_scheme=https on a TLS connection, so request.is_secure() holds and the
    session and CSRF cookies go out Secure (bastion.identity.session_cookies does that only then)."""
    connection = http.client.HTTPSConnection("localhost", _port(server), context=_client(pki), timeout=20)
    connection.request("GET", "/accounts/signup/")
    page = connection.getresponse()
    body = page.read().decode()
    assert page.status == 200, body[-2000:]
    csrf_cookie = _cookies(page)["csrftoken"]
    assert re.search(r";\s*Secure", csrf_cookie), csrf_cookie
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1)
    password = "a long and unusual passphrase 9417"
    connection.request("POST", "/accounts/signup/", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": csrf_cookie.split(";", 1)[0],
        "Origin": server.url, "Referer": server.url + "/accounts/signup/",
    }, body=urllib.parse.urlencode({"csrfmiddlewaretoken": token, "email": "tls-check@example.com",
                                    "password1": password, "password2": password}))
    signed_up = connection.getresponse()
    signed_up.read()
    connection.close()
    assert signed_up.status == 302, signed_up.status
    session_cookie = _cookies(signed_up)["sessionid"]
    assert re.search(r";\s*Secure", session_cookie) and "HttpOnly" in session_cookie, session_cookie


def _serve(tmp_path, *arguments, extra_env=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "BASTION_DATA_DIR": str(tmp_path / "data"), **(extra_env or {})}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if "OPENSSL_CONF" not in (extra_env or {}):
        env.pop("OPENSSL_CONF", None)
    return subprocess.run([sys.executable, "-m", "bastion.cli", "serve", "--port", "1", "--no-jobs", *arguments],
                          cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120)


def _one_line_error(result, expected: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr, result.stderr


def test_certificate_and_key_come_together_and_must_be_readable(tmp_path, pki):
    _one_line_error(_serve(tmp_path, "--certfile", str(pki["cert"])), "--certfile and --keyfile go together")
    _one_line_error(_serve(tmp_path, "--keyfile", str(pki["key"])), "--certfile and --keyfile go together")
    missing = tmp_path / "missing.pem"
    _one_line_error(_serve(tmp_path, "--certfile", str(missing), "--keyfile", str(pki["key"])),
                    f"cannot read --certfile {missing}")
    _one_line_error(_serve(tmp_path, "--certfile", str(pki["cert"]), "--keyfile", str(tmp_path)),
                    f"cannot read --keyfile {tmp_path}")


def test_neither_certificate_nor_key_is_plain_http_not_an_error():
    # Found by mypy: with neither given, check_files opened None and raised TypeError.
    tls.check_files(None, None)
    tls.check_files("", "")


def test_a_file_that_is_not_the_certificates_key_is_refused_in_one_line(tmp_path, pki):
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    _one_line_error(_serve(tmp_path, "--certfile", str(garbage), "--keyfile", str(pki["key"])), "cannot use --certfile")
    _, _, other_key = make_ca_and_leaf(tmp_path / "other")
    _one_line_error(_serve(tmp_path, "--certfile", str(pki["cert"]), "--keyfile", str(other_key)),
                    "KEY_VALUES_MISMATCH")


def test_an_openssl_configuration_without_the_groups_is_refused(tmp_path, pki):
    """An OPENSSL_CONF of the operator's own is kept; the server checks it and will not serve
    the wrong groups (an empty file: OpenSSL's defaults, with secp521r1 and X448)."""
    empty = tmp_path / "openssl.cnf"
    empty.write_text("")
    result = _serve(tmp_path, "--certfile", str(pki["cert"]), "--keyfile", str(pki["key"]),
                    extra_env={"OPENSSL_CONF": str(empty)})
    _one_line_error(result, "Groups = X25519:prime256v1:secp384r1")
    assert "secp521r1" in result.stderr and "X448" in result.stderr


def test_the_server_writes_its_openssl_configuration_into_the_data_dir(server):
    written = Path(server.data_dir / "openssl.cnf").read_text()
    assert "Groups = X25519:prime256v1:secp384r1" in written and written == tls.OPENSSL_CONF_TEXT


def test_the_listening_context(pki):
    context = tls.server_context(str(pki["cert"]), str(pki["key"]))
    assert (context.minimum_version, context.maximum_version) == (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3)
    assert context.options & ssl.OP_NO_COMPRESSION and context.options & ssl.OP_NO_RENEGOTIATION
    assert context.options & ssl.OP_NO_TICKET and not context.options & ssl.OP_CIPHER_SERVER_PREFERENCE
    tls12 = {cipher["name"] for cipher in context.get_ciphers() if cipher["protocol"] == "TLSv1.2"}
    assert tls12 == set(tls.CIPHERS.split(":"))


def _serving_tls(context: ssl.SSLContext):
    """A bare TLS endpoint on a thread that completes handshakes with ``context`` and closes."""
    import contextlib
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            with contextlib.suppress(OSError), context.wrap_socket(connection, server_side=True):
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()

    @contextlib.contextmanager
    def running():
        try:
            yield f"https://localhost:{listener.getsockname()[1]}"
        finally:
            stop.set()
            thread.join(5)
            listener.close()
    return running()


def test_the_trust_check_shakes_hands_with_the_deployment_and_fails_a_lax_one(server, pki, settings):
    from bastion.trust.checks import tls as tls_check

    settings.BASTION_STATUS_PROBE_URL = server.url
    served = tls_check.tls_handshake()
    assert served.result == "pass", served.details
    assert served.evidence["version"] == "TLSv1.3" and served.evidence["certificate_days_left"] >= 14
    assert served.evidence["refused"] == {"TLSv1": True, "TLSv1_1": True, "cbc_suites": True}

    # The same certificate behind a server that also agrees to CBC suites: the claim fails and says why.
    lax = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    lax.load_cert_chain(str(pki["cert"]), str(pki["key"]))
    lax.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256:"
                    "ECDHE-RSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA")
    with _serving_tls(lax) as url:
        settings.BASTION_STATUS_PROBE_URL = url
        outcome = tls_check.tls_handshake()
    assert outcome.result == "fail" and "a CBC suite accepted" in outcome.details, outcome.details

    settings.BASTION_STATUS_PROBE_URL = "http://localhost:8000"  # TLS ends at a proxy in front
    assert tls_check.tls_handshake().result == "not_applicable"

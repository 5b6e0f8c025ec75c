"""``run.py sweep --scheduler``: addresses checked before connecting, a short connection timeout,
TLS with certificates, and a loud warning for plain TCP to another machine.

Only loopback addresses are ever connected to; tcp://10.0.0.1:8786 is checked for the warning with
Dask's Client replaced, so nothing leaves this machine.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pandas as pd
import pytest

import simulation.experiments.execute as execute
from simulation.cli import main
from simulation.experiments.store import load_sweep

ROOT = Path(__file__).resolve().parent.parent
TINY = ROOT / "scenarios" / "tiny.yaml"


def write_spec(folder: Path) -> Path:
    path = folder / "tiny_tls.yaml"
    path.write_text(
        f"name: tiny_tls\nbase: {TINY}\nseed: 11\nsampler: grid\nreplications: 1\n"
        f"set: ['size=200', 'weeks=12', 'labour.endline_weeks=4']\n"
        f"metrics: [bought_share, total_cost_idr]\n"
        f"parameters:\n  - {{path: voucher.credit_idr, values: [500000, 1000000]}}\n",
        encoding="utf-8",
    )
    return path


def closed_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("not a url", "not an address"),
        ("http://127.0.0.1:8786", "http protocol"),
        ("tcp://[::1", "Invalid IPv6 URL"),
        ("tcp://127.0.0.1", "no port"),
        ("tcp://127.0.0.1:8786/path", "unexpected text"),
        ("", "the address is empty"),
        ("   ", "the address is empty"),
    ],
    ids=["not-a-url", "http", "broken-ipv6", "no-port", "path", "empty", "blank"],
)
def test_bad_scheduler_addresses_exit_2_at_once(address, expected, tmp_path, capsys, monkeypatch):
    def no_connection(*args, **kwargs):
        raise AssertionError("a malformed address must be refused before connecting")

    monkeypatch.setattr("distributed.Client", no_connection)
    start = time.monotonic()
    code, out, err = call(
        capsys, "sweep", write_spec(tmp_path), "--scheduler", address, "--out", tmp_path / "o"
    )
    assert code == 2, err
    assert err.startswith("error: --scheduler") and expected in err and "Traceback" not in err
    assert time.monotonic() - start < 5
    assert not (tmp_path / "o").exists()  # in particular, "" does not run in-process


def test_unreachable_scheduler_exits_2_naming_it_after_the_timeout(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", 2.0)
    address = f"tcp://127.0.0.1:{closed_port()}"
    start = time.monotonic()
    code, out, err = call(
        capsys, "sweep", write_spec(tmp_path), "--scheduler", address, "--out", tmp_path / "o"
    )
    assert code == 2, err
    assert f"--scheduler {address}: cannot connect within 2 s" in err and "Traceback" not in err
    assert time.monotonic() - start < 15
    assert "warning" not in err  # loopback: no warning


def test_plain_tcp_to_another_machine_is_warned_about_before_connecting(tmp_path, capsys, monkeypatch):
    seen = []

    def refuse(address, **kwargs):
        seen.append(address)
        raise OSError(f"Timed out trying to connect to {address}")  # no traffic leaves this machine

    monkeypatch.setattr("distributed.Client", refuse)
    code, out, err = call(
        capsys, "sweep", write_spec(tmp_path), "--scheduler", "tcp://10.0.0.1:8786", "--out", tmp_path / "o"
    )
    assert seen == ["tcp://10.0.0.1:8786"]
    assert code == 2
    warning, error = err.strip().split("\n")
    assert warning.startswith("warning: tcp://10.0.0.1:8786 is plain TCP to another machine")
    assert "pickles" in warning and "tls://" in warning and "trust" in warning
    assert error.startswith("error: --scheduler tcp://10.0.0.1:8786: cannot connect")


def test_tls_options_are_checked(tmp_path, capsys):
    spec = write_spec(tmp_path)
    pem = tmp_path / "ca.pem"
    pem.write_text("x", encoding="utf-8")
    cases = [
        (["--scheduler", "tls://127.0.0.1:8786"], "tls:// needs certificates"),
        (["--scheduler", "tls://127.0.0.1:8786", "--tls-cert", pem], "--tls-ca-file is missing"),
        (["--scheduler", "tls://127.0.0.1:8786", "--tls-ca-file", tmp_path / "no.pem"], "no such file"),
        (["--scheduler", "tcp://127.0.0.1:8786", "--tls-ca-file", pem], "need a tls:// address"),
        (["--workers", "1", "--tls-ca-file", pem], "only with --scheduler"),
    ]
    for args, expected in cases:
        code, out, err = call(capsys, "sweep", spec, *args, "--dry-run")
        assert code == 2 and expected in err and "Traceback" not in err, (args, err)


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """A LocalCluster that speaks only TLS, with a temporary self-signed CA, and the PEM files a
    client needs."""
    pytest.importorskip("cryptography")
    from distributed import LocalCluster
    from distributed.security import Security

    security = Security.temporary()
    folder = tmp_path_factory.mktemp("tls")
    files = {}
    for name, pem in (
        ("ca", security.tls_ca_file),
        ("cert", security.tls_client_cert),
        ("key", security.tls_client_key),
    ):
        files[name] = folder / f"{name}.pem"
        files[name].write_text(pem, encoding="utf-8")
    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tls://",
        host="127.0.0.1",
        security=security,
        dashboard_address="127.0.0.1:0",
    )
    try:
        yield cluster, files
    finally:
        cluster.close()


def test_a_sweep_runs_on_a_tls_cluster_with_certificates(tls_cluster, tmp_path, capsys):
    cluster, files = tls_cluster
    assert cluster.scheduler_address.startswith("tls://")
    spec = write_spec(tmp_path)
    tls = ["--tls-ca-file", files["ca"], "--tls-cert", files["cert"], "--tls-key", files["key"]]
    code, out, err = call(
        capsys, "sweep", spec, "--scheduler", cluster.scheduler_address, *tls, "--out", tmp_path / "tls"
    )
    assert code == 0, err
    assert "warning" not in err
    assert call(capsys, "sweep", spec, "--out", tmp_path / "local")[0] == 0
    drop = ["wall_s"]
    pd.testing.assert_frame_equal(
        load_sweep(tmp_path / "tls").drop(columns=drop), load_sweep(tmp_path / "local").drop(columns=drop)
    )


def test_a_tls_cluster_refuses_a_client_with_another_ca(tls_cluster, tmp_path, capsys, monkeypatch):
    from distributed.security import Security

    cluster, files = tls_cluster
    stranger = Security.temporary()
    for name, pem in (("ca", stranger.tls_ca_file), ("cert", stranger.tls_client_cert)):
        (tmp_path / f"{name}.pem").write_text(pem, encoding="utf-8")
    (tmp_path / "key.pem").write_text(stranger.tls_client_key, encoding="utf-8")
    monkeypatch.setattr(execute, "CONNECT_TIMEOUT", 3.0)
    tls = ["--tls-ca-file", tmp_path / "ca.pem", "--tls-cert", tmp_path / "cert.pem"]
    code, out, err = call(
        capsys,
        "sweep",
        write_spec(tmp_path),
        "--scheduler",
        cluster.scheduler_address,
        *tls,
        "--tls-key",
        tmp_path / "key.pem",
        "--out",
        tmp_path / "o",
    )
    assert code == 2 and f"--scheduler {cluster.scheduler_address}: cannot connect" in err, err
    assert not (tmp_path / "o").exists()

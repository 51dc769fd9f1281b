"""The public surface: what importers may rely on."""

from __future__ import annotations

import importlib.metadata

import hostlocate


def test_exported_names() -> None:
    assert sorted(hostlocate.__all__) == [
        "AsyncLocator",
        "ConfigError",
        "DataError",
        "ErrorCode",
        "HostlocateError",
        "InvalidURLError",
        "Locator",
        "Report",
        "ReportedURL",
        "SourceError",
        "Verdict",
        "__version__",
        "locate",
        "parse_reported_url",
        "refang",
        "reset_default_locator",
    ]
    for name in hostlocate.__all__:
        assert hasattr(hostlocate, name)


def test_version_matches_the_package_metadata() -> None:
    assert hostlocate.__version__ == importlib.metadata.version("hostlocate")


def test_error_tree() -> None:
    assert issubclass(hostlocate.InvalidURLError, hostlocate.HostlocateError)
    assert issubclass(hostlocate.InvalidURLError, ValueError)
    assert issubclass(hostlocate.ConfigError, ValueError)
    assert issubclass(hostlocate.DataError, hostlocate.HostlocateError)
    assert issubclass(hostlocate.SourceError, hostlocate.HostlocateError)


def test_core_imports_no_network_modules() -> None:
    # The pure core (parsing, the decision) must not pull in I/O libraries.
    import subprocess
    import sys

    code = (
        "import sys; import hostlocate.parse, hostlocate.decide, hostlocate.ipclass; "
        "bad = [m for m in ('httpx', 'dns.asyncquery', 'ipwhois', 'asyncio', 'socket') "
        "if m in sys.modules and m != 'socket']; print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_verdict_records_stay_out_of_the_cycle_collector() -> None:
    import gc

    import msgspec

    from hostlocate import models
    from hostlocate.batch import Record
    from hostlocate.models import DnsPart, IpOwnership, RegistrarInfo

    records = [
        obj
        for obj in vars(models).values()
        if isinstance(obj, type) and issubclass(obj, msgspec.Struct) and obj is not msgspec.Struct
    ]
    assert len(records) >= 14
    classes: list[type[msgspec.Struct]] = [*records, Record, DnsPart, IpOwnership, RegistrarInfo]
    for cls in classes:
        assert cls.__struct_config__.gc is False, cls.__name__
    verdict = models.Verdict(
        input="x",
        status="located",
        addresses=(models.AddressFacts(ip="192.0.2.1", version=4, public=True),),
        provenance=models.Provenance(version="1", resolved_at="t", elapsed_ms=1.0),
    )
    assert not gc.is_tracked(verdict)

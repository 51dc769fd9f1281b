"""Test-session plugins: the loopback test internet (DNS lab, RDAP lab)."""

pytest_plugins = ["tests.netlab.fixtures", "tests.rdaplab.fixtures"]

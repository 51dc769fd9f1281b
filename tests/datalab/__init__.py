"""A publisher's download site on loopback, and the files it serves, for data-update tests.

`DataServer` is a stdlib HTTP server on 127.0.0.1 serving bytes per path, with
redirects, error statuses and bodies cut short; `files` builds small but real
data files (MaxMind DBs with mmdb-writer, gzip and tar.gz packings, IANA-format
bootstrap files, range lists) in the publishers' formats.
"""

from tests.datalab.server import DataServer, Route

__all__ = ["DataServer", "Route"]

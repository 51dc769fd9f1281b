"""``with`` for the objects that hold a file, a memory map or a connection.

The GeoIP databases and the SQLite store each own something the operating
system counts; both close it the same way at the end of a ``with`` block, so
that protocol is written once here and each class only says how it closes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self

__all__ = ["Closing"]


class Closing(ABC):
    """A resource owner usable as a context manager: ``__exit__`` calls :meth:`close`."""

    __slots__ = ()

    @abstractmethod
    def close(self) -> None:
        """Release what the object holds; calling it again does nothing."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

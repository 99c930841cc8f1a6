"""The prediction and feedback logs: JSON Lines per UTC day (`predictions-YYYY-MM-DD.jsonl`).

Every worker appends to the same daily file through its own O_APPEND descriptor, one write(2) per
batch holding whole lines. Linux serialises appending writes to a file under the inode's lock, so the
lines of two workers never interleave (on local filesystems and overlayfs; not on NFS). The write
happens before any response of the batch is sent, so a client never holds a prediction the log does
not.
"""

import datetime
import os


def iso(now: float) -> str:
    """A Unix time as ISO 8601 UTC with milliseconds (2024-05-01T12:00:00.000Z)."""
    return datetime.datetime.fromtimestamp(now, datetime.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class DailyLog:
    """One kind of log (predictions, feedback) in `folder`: a file per UTC day, opened O_APPEND."""

    def __init__(self, folder: str, kind: str = "predictions") -> None:
        self.folder = folder
        self.kind = kind
        os.makedirs(folder, exist_ok=True)
        self.day = -1
        self.fd = -1

    def _open(self, day: int) -> None:
        name = self.kind + datetime.datetime.fromtimestamp(day * 86400, datetime.UTC).strftime("-%Y-%m-%d.jsonl")
        fd = os.open(os.path.join(self.folder, name), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        if self.fd >= 0:
            os.close(self.fd)
        self.fd, self.day = fd, day

    def write(self, now: float, data: bytes) -> None:
        """Append whole lines (bytes) in one write; raises OSError when the log is not writable."""
        day = int(now // 86400)
        if day != self.day:
            self._open(day)
        view = memoryview(data)
        while view:
            view = view[os.write(self.fd, view) :]

"""The networks, read with the site's own loader (the network model, package `networks`).

The form service and the site read the same YAML files with the same code, so a
network's questions on the form and in the service cannot drift apart. The files are
re-read when they change (checked at most every few seconds); if the new files are
invalid, the service keeps the last valid set and logs the problems.
"""

import logging
import threading
import time
from pathlib import Path

from core.networks import load_networks
from formservice.i18n import languages

log = logging.getLogger(__name__)


def load(directory):
    return {n.slug: n for n in load_networks(Path(directory), list(languages()))}


def _signature(directory):
    try:
        entries = [(p.name, p.stat()) for p in Path(directory).iterdir() if p.is_file()]
    except OSError:
        return None
    return tuple(sorted((name, st.st_mtime_ns, st.st_size) for name, st in entries))


class Registry:
    def __init__(self, directory, check_every=2.0):
        self.directory = Path(directory)
        self.check_every = check_every
        self._lock = threading.Lock()
        self._networks = load(self.directory)  # invalid files at start: an error, not a warning
        self._signature = _signature(self.directory)
        self._checked = time.monotonic()

    def _refresh(self):
        now = time.monotonic()
        if now - self._checked < self.check_every:
            return
        with self._lock:
            if now - self._checked < self.check_every:
                return
            self._checked = now
            signature = None
            try:
                signature = _signature(self.directory)
                if signature == self._signature:
                    return
                self._networks = load(self.directory)
                log.info("networks reloaded from %s: %s", self.directory, ", ".join(sorted(self._networks)))
            except Exception as e:  # noqa: BLE001 - keep serving the last valid set
                log.error("networks in %s are invalid, keeping the previous ones: %s", self.directory,
                          "; ".join(map(str, getattr(e, "problems", None) or [e])))
            finally:
                if signature is not None:  # report a broken set once, not every few seconds
                    self._signature = signature

    def get(self, slug):
        self._refresh()
        return self._networks.get(slug)

    def all(self):
        self._refresh()
        return dict(self._networks)

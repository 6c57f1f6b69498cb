"""Settings: defaults, overridden by FORMSERVICE_* environment variables, overridden by flags."""

import ipaddress
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from core.site import SiteFacts, SiteSettingsError

DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url):
    """scheme://host[:port] of an http(s) URL (lower-case, default port left out), or None."""
    if not isinstance(url, str) or not url or any(ord(c) < 33 or ord(c) > 126 for c in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname or "@" in parts.netloc or "\\" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")


def _origins(value):
    out = []
    for item in value.split(",") if isinstance(value, str) else value:
        item = item.strip()
        if not item:
            continue
        o = origin_of(item)
        if o is None:
            raise ValueError(f"not an http(s) origin: {item!r}")
        out.append(o)
    return tuple(out)


LOOPBACK = ("127.0.0.1", "::1")


def _proxies(value):
    """The proxies whose X-Forwarded-For is believed: networks, from a list or a comma-separated
    string. true/yes/on/1 mean the loopback addresses; false/no/off/0/empty mean none."""
    if value is None or value is False:
        return ()
    if value is True:
        value = LOOPBACK
    if isinstance(value, str):
        word = value.strip().lower()
        if word in ("1", "true", "yes", "on"):
            value = LOOPBACK
        elif word in ("", "0", "false", "no", "off"):
            return ()
        else:
            value = value.split(",")
    out = []
    for item in value:
        item = item.strip() if isinstance(item, str) else item
        if not item:
            continue
        try:
            out.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"FORMSERVICE_TRUST_PROXY: not an IP address or network: {item!r}") from None
    return tuple(out)


@dataclass
class Config:
    database_url: str = "sqlite:///var/formservice.sqlite3"
    smtp_url: str | None = None
    allowed_origins: tuple = ("http://127.0.0.1:8000", "http://localhost:8000")
    retention_days: int = 365
    admin_token: str | None = None
    site_settings: Path = Path("pelicanconf.py")  # the site's settings: its languages, pages, catalogues
    networks_dir: Path | None = None  # default: the site's (PATH/NETWORKS_PATH of its settings)
    site_url: str = "http://127.0.0.1:8000"
    mail_from: str = "KNN Advies <aanmelden@localhost>"
    coordinator_lang: str | None = None  # default: the site's default language
    rate_per_minute: float = 5.0   # 0 switches the limit off
    rate_burst: int = 5
    recipient_window_hours: float = 24.0  # one confirmation per address and network per window
    confirmations_per_day: int = 3        # confirmations per address over all networks per window
    notifications_per_hour: int = 10      # per network; past it one digest an hour instead (0: never)
    trust_proxy: tuple = ()        # networks of the proxies whose X-Forwarded-For is believed
    admin_failures_per_minute: int = 10  # failed admin sign-ins per client, then 429
    write_timeout: float = 5.0     # longest wait of a join request for its commit, then 503
    writer_stall_seconds: float = 5.0     # a commit this long: unhealthy, joins get 503 at once
    writer_restart_seconds: float = 15.0  # a commit this long (beyond any lock wait): new writer thread
    max_body_bytes: int = 32 * 1024
    retry_base_seconds: float = 30.0
    retry_max_seconds: float = 3600.0
    poll_seconds: float = 5.0
    claim_seconds: float = 120.0
    smtp_timeout: float = 20.0
    purge_every_seconds: float = 3600.0
    extra: dict = field(default_factory=dict, repr=False)
    site: SiteFacts = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        self.allowed_origins = _origins(self.allowed_origins)
        self.site_url = self.site_url.rstrip("/")
        site_origin = origin_of(self.site_url)
        if site_origin is None:
            raise ValueError(f"FORMSERVICE_SITE_URL is not an http(s) URL: {self.site_url!r}")
        if site_origin not in self.allowed_origins:  # the site itself may always post
            self.allowed_origins += (site_origin,)
        self.site_settings = Path(self.site_settings)
        if not self.site_settings.is_file():
            raise ValueError(f"FORMSERVICE_SITE_SETTINGS: {self.site_settings} is not a file: run the service in the "
                             "site's folder or name the site's pelicanconf.py")
        try:
            self.site = SiteFacts.load(self.site_settings)
        except SiteSettingsError as e:
            raise ValueError(f"{self.site_settings}: {e}") from None
        self.networks_dir = Path(self.networks_dir) if self.networks_dir else self.site.networks_dir
        self.coordinator_lang = self.coordinator_lang or self.site.default
        if self.coordinator_lang not in self.site.languages:
            raise ValueError(f"FORMSERVICE_COORDINATOR_LANG: {self.coordinator_lang!r} is not a language of the site "
                             f"({', '.join(self.site.codes)})")
        self.retention_days = int(self.retention_days)
        self.rate_burst = int(self.rate_burst)
        self.confirmations_per_day = int(self.confirmations_per_day)
        self.notifications_per_hour = int(self.notifications_per_hour)
        self.max_body_bytes = int(self.max_body_bytes)
        self.trust_proxy = _proxies(self.trust_proxy)
        self.admin_failures_per_minute = int(self.admin_failures_per_minute)
        for name in ("rate_per_minute", "retry_base_seconds", "retry_max_seconds", "poll_seconds",
                     "claim_seconds", "smtp_timeout", "purge_every_seconds", "write_timeout", "recipient_window_hours",
                     "writer_stall_seconds", "writer_restart_seconds"):
            setattr(self, name, float(getattr(self, name)))
        if self.admin_token is not None and len(self.admin_token) < 16:
            raise ValueError("FORMSERVICE_ADMIN_TOKEN must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        if self.retention_days < 1:
            raise ValueError("FORMSERVICE_RETENTION_DAYS must be at least 1")

    @classmethod
    def load(cls, environ=None, **overrides):
        """Defaults < FORMSERVICE_<NAME> environment variables < non-None overrides (flags)."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            if f.name in ("extra", "site"):
                continue
            env = environ.get(f"FORMSERVICE_{f.name.upper()}")
            if env not in (None, ""):
                values[f.name] = env
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def env_names(self):
        return [f"FORMSERVICE_{f.name.upper()}" for f in fields(self) if f.name not in ("extra", "site")]

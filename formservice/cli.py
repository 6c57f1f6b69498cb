"""The `formservice` command.

    formservice serve --host 127.0.0.1 --port 8080 [--no-worker]   migrate, then serve (+ outbox worker)
    formservice migrate                                           bring the database schema up to date
    formservice worker [--once]                                   send queued mails (and purge periodically)
    formservice purge                                             delete requests past the retention period
    formservice erase                                             erase one applicant (the address read from stdin)
    formservice export --network SLUG --format csv|json           a network's requests, to stdout
    formservice smtp-sink --port 8025                             a local SMTP server that prints mails

Every setting can be given as a flag or as FORMSERVICE_<NAME> in the environment
(e.g. --database-url / FORMSERVICE_DATABASE_URL); flags win.

Every command creates its files private (umask 077) and logs nothing an applicant typed:
statement parameters are hidden, SQLAlchemy's own logging (which can print result rows)
stays at WARNING whatever --log-level says, and a logged exception shows its stack and
its class, never its message.
"""

import argparse
import gc
import logging
import os
import signal
import sys
import traceback

from core.networks import NetworkErrors
from formservice import i18n
from formservice.config import Config

log = logging.getLogger("formservice")

SETTINGS = [
    ("--database-url", "database_url", str, "SQLAlchemy URL (default sqlite:///var/formservice.sqlite3; "
                                              "PostgreSQL: postgresql+psycopg://user:pass@host/db)"),
    ("--smtp-url", "smtp_url", str, "smtp://host:port, smtp+starttls://user:pass@host:587 or smtps://...:465"),
    ("--allowed-origins", "allowed_origins", str, "comma-separated origins allowed to post "
                                                  "(default http://127.0.0.1:8000,http://localhost:8000)"),
    ("--retention-days", "retention_days", int, "days a request is kept (default 365)"),
    ("--site-settings", "site_settings", str, "the site's settings file: its languages, pages and texts (default pelicanconf.py)"),
    ("--networks-dir", "networks_dir", str, "the networks' YAML files (default: the site's, content/networks)"),
    ("--site-url", "site_url", str, "the site's URL, for the thank-you and back links (default http://127.0.0.1:8000)"),
    ("--mail-from", "mail_from", str, "From: of every mail"),
    ("--admin-token", "admin_token", str, "bearer token for the coordinators' export and erasure endpoints "
                                          "(at least 16 characters; prefer the environment variable: "
                                          "a flag is visible in the process list)"),
    ("--coordinator-lang", "coordinator_lang", str, "language of the coordinators' notifications (default: the site's default language)"),
    ("--rate-per-minute", "rate_per_minute", float, "posts per minute per client (default 5; 0 = no limit)"),
    ("--rate-burst", "rate_burst", int, "burst size of the rate limit (default 5)"),
    ("--recipient-window-hours", "recipient_window_hours", float,
     "one confirmation per address and network in this window; a repeat replaces the stored request (default 24)"),
    ("--confirmations-per-day", "confirmations_per_day", int,
     "confirmation mails per address over all networks per window (default 3)"),
    ("--notifications-per-hour", "notifications_per_hour", int,
     "coordinator notifications per network per hour; past it one digest mail an hour (default 10; 0 = never)"),
    ("--max-body-bytes", "max_body_bytes", int, "largest accepted body (default 32768)"),
    ("--retry-base-seconds", "retry_base_seconds", float, "first retry delay of a failed mail (default 30)"),
    ("--retry-max-seconds", "retry_max_seconds", float, "longest retry delay (default 3600)"),
    ("--poll-seconds", "poll_seconds", float, "how often the worker looks for due mails (default 5)"),
    ("--claim-seconds", "claim_seconds", float, "how long a claimed mail is reserved for its worker (default 120)"),
]


def _settings_parser():
    p = argparse.ArgumentParser(add_help=False)
    g = p.add_argument_group("settings (or FORMSERVICE_<NAME> environment variables)")
    for flag, dest, kind, help_text in SETTINGS:
        g.add_argument(flag, dest=dest, type=kind, default=None, help=help_text)
    g.add_argument("--trust-proxy", dest="trust_proxy", nargs="?", const="127.0.0.1,::1", default=None,
                   metavar="ADDRESSES",
                   help="believe X-Forwarded-For from these proxies (comma-separated addresses or networks; "
                        "without a value 127.0.0.1,::1); from anyone else it is ignored")
    g.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return p


def build_parser():
    settings = _settings_parser()
    parser = argparse.ArgumentParser(prog="formservice", description="KNN Advies join-request form service.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("serve", parents=[settings], help="migrate, then serve HTTP (with the outbox worker)")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8080)
    s.add_argument("--no-worker", action="store_true", help="do not run the outbox worker in this process")
    s.add_argument("--access-log", action="store_true", help="log every HTTP request (with client addresses)")

    sub.add_parser("migrate", parents=[settings], help="bring the database schema up to date")
    w = sub.add_parser("worker", parents=[settings], help="send queued mails; purge old requests periodically")
    w.add_argument("--once", action="store_true", help="send what is due now, then exit")
    sub.add_parser("purge", parents=[settings], help="delete requests older than the retention period")
    sub.add_parser("erase", parents=[settings],
                   help="delete one applicant's requests and mails; the address is read from standard input "
                        "(or asked for), never from the command line, where the process list and the shell's "
                        "history would keep it")
    x = sub.add_parser("export", parents=[settings], help="write a network's requests to stdout")
    x.add_argument("--network", required=True, metavar="SLUG")
    x.add_argument("--format", choices=["csv", "json"], default="csv")
    x.add_argument("--output", "-o", help="write to this file instead of stdout")
    k = sub.add_parser("smtp-sink", help="a local SMTP server (127.0.0.1) that prints every mail")
    k.add_argument("--host", default="127.0.0.1")
    k.add_argument("--port", type=int, default=8025)
    k.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])
    return parser


def load_config(args):
    overrides = {dest: getattr(args, dest, None) for _, dest, _, _ in SETTINGS}
    overrides["trust_proxy"] = getattr(args, "trust_proxy", None)
    return Config.load(**overrides)


def escape_for_log(text):
    """One log line stays one line: line breaks and every other control or invisible
    formatting character (what a client could send in a path or a header) as \\x.., \\u...."""
    return "".join(c if c.isprintable() or c == " " else (f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}")
                   for c in text)


class PrivateFormatter(logging.Formatter):
    """Messages escaped (escape_for_log): nothing a client sends can start a line of its own.
    Exceptions as their stack and class names only: an exception's message may quote data
    (an SQL error its values, an SMTP refusal the address)."""

    def formatMessage(self, record):
        record.message = escape_for_log(record.message)
        return super().formatMessage(record)

    def formatException(self, ei):
        _, value, tb = ei
        lines = ["Traceback (most recent call last):\n", *traceback.format_tb(tb)]
        seen = set()
        while value is not None and id(value) not in seen:
            seen.add(id(value))
            lines.append(f"{type(value).__module__}.{type(value).__qualname__} (message not logged)\n")
            value = value.__cause__ or value.__context__
        return "".join(lines).rstrip("\n")


class NoQueryStrings(logging.Filter):
    """uvicorn's access log without query strings: a sign-in's callback carries GitHub's code
    and the state in its query (the service itself takes nothing else from a query)."""

    def filter(self, record):
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, version, status = record.args
            record.args = (client, method, str(path).split("?", 1)[0], version, status)
        return True


def setup_logging(level):
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(PrivateFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(NoQueryStrings())
    root = logging.getLogger()
    if not root.handlers:  # (called in-process, e.g. by tests, the existing handlers stay)
        root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    # At INFO and below SQLAlchemy logs statements and result rows: applicants' data.
    logging.getLogger("sqlalchemy").setLevel(logging.WARNING)
    if level != "debug":
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _engine(config):
    from formservice import migrate
    from formservice.db import make_engine

    engine = make_engine(config.database_url)
    migrate.upgrade(engine)
    return engine


def make_worker(config, engine):
    from formservice.worker import Worker, WorkerSettings

    return Worker(engine, WorkerSettings.from_config(config))


def cmd_serve(args, config):
    import uvicorn

    from formservice.app import create_app
    from formservice.i18n import translations
    from formservice.registry import Registry
    from formservice.server import RECEIVE_DEADLINE, DeadlineProtocol, raise_fd_limit

    registry = Registry(config.networks_dir)  # invalid networks: refuse to start, before anything else
    engine = _engine(config)
    worker = None if args.no_worker else make_worker(config, engine)
    app = create_app(config, engine=engine, registry=registry, worker=worker, run_worker=worker is not None)
    files = raise_fd_limit()
    log.info("networks: %s; allowed origins: %s; outbox worker: %s; trusted proxies: %s; "
             "open files: %d; a request must arrive within %g s",
             ", ".join(sorted(registry.all())) or "(none)", ", ".join(config.allowed_origins),
             "in this process" if worker else "off (run `formservice worker`)",
             ", ".join(map(str, config.trust_proxy)) or "none", files, RECEIVE_DEADLINE)
    for lang in config.site.codes:  # compile the message catalogues now, not in the first requests
        translations(lang)
    # What exists now lives as long as the process: keep it out of the cyclic garbage collector's
    # full collections, which would otherwise scan it all again and again (~50 ms pauses under load).
    gc.collect()
    gc.freeze()
    # proxy_headers=False: X-Forwarded-For is honoured only with --trust-proxy, by the app itself.
    # log_config=None: uvicorn's loggers go through our handler (PrivateFormatter).
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=False, server_header=False,
                access_log=args.access_log, log_level=args.log_level, log_config=None, http=DeadlineProtocol,
                backlog=4096)
    return 0


def cmd_migrate(args, config):
    _engine(config)
    return 0


def cmd_worker(args, config):
    engine = _engine(config)
    worker = make_worker(config, engine)
    if args.once:
        sent = worker.run_once()
        print(f"sent {sent} mail(s)")
        return 0
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: worker.stop())
    worker.run_forever()
    return 0


def cmd_purge(args, config):
    from formservice import store

    requests, mails = store.purge(_engine(config), config.retention_days)
    print(f"deleted {requests} request(s) and {mails} mail(s) older than {config.retention_days} days")
    return 0


def cmd_erase(args, config):
    from formservice import registry, store
    from formservice.validation import normalise_email

    if sys.stdin.isatty():
        sys.stderr.write("E-mail address of the applicant to erase: ")
        sys.stderr.flush()
    email = normalise_email(sys.stdin.readline().strip())
    if email is None:
        print("formservice: that is not a valid e-mail address (give it on standard input)", file=sys.stderr)
        return 2
    try:
        networks = registry.load(config.networks_dir)
    except NetworkErrors:
        networks = {}  # still erase; the coordinators are then not told (said below)
    erased = store.erase(_engine(config), email, networks, config.coordinator_lang)
    print(f"deleted {erased.requests} request(s) and {erased.mails} mail(s) of this applicant, removed "
          f"{erased.digest_lines} line(s) from digests, told {erased.notices} coordinator(s), and scrubbed "
          "the database files")
    if erased.requests and not networks:
        print("formservice: the network files could not be read: tell the coordinators yourself", file=sys.stderr)
    return 0


def cmd_export(args, config):
    from formservice import export, registry, store

    engine = _engine(config)
    try:
        network = registry.load(config.networks_dir).get(args.network)
    except Exception as e:  # noqa: BLE001 - still export what is stored
        log.warning("could not read the networks (%s); exporting without the question order", e)
        network = None
    rows = store.requests_of(engine, args.network)
    if network is None and not rows:
        print(f"no network {args.network!r} and no requests for it", file=sys.stderr)
        return 1
    body = export.render(args.format, rows, args.network, network)
    if args.output:
        with open(args.output, "w", encoding="utf-8", newline="") as f:
            f.write(body)
    else:
        sys.stdout.write(body)
    return 0


def cmd_smtp_sink(args, config):
    from formservice import smtpsink

    return smtpsink.run(args.host, args.port)


COMMANDS = {"serve": cmd_serve, "migrate": cmd_migrate, "worker": cmd_worker, "purge": cmd_purge,
            "erase": cmd_erase, "export": cmd_export, "smtp-sink": cmd_smtp_sink}


def main(argv=None):
    os.umask(0o077)  # every file this process creates (database, WAL, exports) is private
    args = build_parser().parse_args(argv)
    setup_logging(args.log_level)
    try:
        config = None if args.command == "smtp-sink" else load_config(args)
    except ValueError as e:
        print(f"formservice: {e}", file=sys.stderr)
        return 2
    if config is not None:
        i18n.use(config.site)
    from formservice.migrate import MigrationFailed

    try:
        return COMMANDS[args.command](args, config) or 0
    except MigrationFailed as e:
        print(f"formservice: {e}", file=sys.stderr)
        return 1
    except NetworkErrors as e:
        print(f"formservice: the networks in {config.networks_dir} are invalid:", file=sys.stderr)
        for problem in e.problems:
            print(f"  {problem}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

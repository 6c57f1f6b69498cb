"""The HTTP API (Starlette).

    POST   /join/{slug}                         a join request (urlencoded form or JSON)
    OPTIONS /join/{slug}                        CORS preflight (allowed origins only)
    GET    /healthz                             200 when the database takes a write now, else 503
    GET    /admin/networks/{slug}/requests.csv  export (Authorization: Bearer <admin token>)
    GET    /admin/networks/{slug}/requests.json
    POST   /admin/erase   {"email": "..."}      erase one applicant's data (also from the disk)
    GET    /auth, /callback                     GitHub login of the editor at /admin/ (formservice.oauth)

A browser post gets 303 See Other to the thank-you page, or an HTML page listing the
problems (4xx). A JSON body or `Accept: application/json` gets JSON: 201
{"status": "accepted", "id": ...} or 4xx {"errors": {field: message}}.

While the database cannot take a write (locked, read-only, full, down) or the group-commit
writer is stuck, /healthz answers 503 and join requests get a quick 503 with Retry-After;
a monitor thread probes the database until it takes writes again, and restarts a writer
thread that died or hangs.

Nothing an applicant typed is ever logged: log lines name requests by id, errors by class.
"""

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import parse_qsl

from jinja2 import Environment, FileSystemLoader, select_autoescape
from python_multipart.multipart import parse_options_header
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from formservice import export, i18n, oauth, store
from formservice.config import Config, origin_of
from formservice.db import make_engine
from formservice.groupcommit import GroupCommit
from formservice.i18n import N_, gettext, negotiate
from formservice.registry import Registry
from formservice.validation import field_label, normalise_email, validate

log = logging.getLogger(__name__)

MAX_FIELDS = 100
FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"

MSG_TITLE = N_("Your request could not be sent")
MSG_INTRO_FIELDS = N_("Please correct the following and send the form again:")
MSG_INTRO_REQUEST = N_("Your request was not sent:")
MSG_BACK = N_("Back to the form")
MSG_NO_NETWORK = N_("There is no network with this name.")
MSG_CLOSED = N_("This network is not accepting new members at the moment.")
MSG_ORIGIN = N_("The form was sent from a website that may not use this service.")
MSG_RATE = N_("Too many requests from your connection. Please wait a minute and try again.")
MSG_TOO_LARGE = N_("The form is too large: it may be at most %(kib)d KiB.")
MSG_MEDIA_TYPE = N_("The form was sent in a format this service does not accept.")
MSG_ENCODING = N_("The form could not be read: it is not valid UTF-8 text.")
MSG_BAD_JSON = N_("The form could not be read: it is not valid JSON.")
MSG_NOT_OBJECT = N_("The form could not be read: send one JSON object.")
MSG_TOO_MANY = N_("The form has too many fields.")
MSG_UNAVAILABLE = N_("Your request could not be saved because of a fault on our side. Please try again later.")
RETRY_AFTER = "30"  # seconds, with every 503
HEALTH_WAIT_MS = 1000  # the health probe's longest wait for a lock (the check answers within 2 s)

_templates = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent / "templates"),
                         autoescape=select_autoescape(default=True), trim_blocks=True, lstrip_blocks=True)


class Reject(Exception):
    """A request-level problem: HTTP status and {field: message} (already translated)."""

    def __init__(self, status, problems, headers=None, message=None):
        super().__init__(status, problems)
        self.status = status
        self.problems = problems
        self.headers = headers or {}
        self.message = message  # (field, msgid): translatable again once the form's language is known

    @property
    def language_unknown(self):
        return self.message is not None

    def retranslate(self, lang):
        field, msgid = self.message
        return Reject(self.status, {field: gettext(lang, msgid)}, self.headers)


class Pairs(list):
    """A JSON object as the (key, value) pairs it was sent with: duplicates stay visible."""


def _no_constants(name):
    raise ValueError(f"{name} is not JSON")


class RateLimiter:
    """An in-memory token bucket per client: `per_minute` requests, bursts of `burst`.

    Per process: behind a proxy with N instances a client gets up to N times as many. The
    buckets are kept in the order they were last used: a bucket that has refilled (or, past
    `max_clients`, the longest unused) is dropped from the front, a few per request at most,
    so no request pays for pruning the whole table.
    """

    def __init__(self, per_minute, burst, max_clients=100_000):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self.buckets = OrderedDict()  # key -> (tokens, last), least recently used first
        self.lock = threading.Lock()

    def take(self, key, now=None):
        """(allowed, seconds to wait)."""
        if self.rate <= 0:
            return True, 0
        now = time.monotonic() if now is None else now
        with self.lock:
            tokens, last = self.buckets.pop(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                allowed, wait = True, 0
            else:
                self.buckets[key] = (tokens, now)
                allowed, wait = False, int((1 - tokens) / self.rate) + 1
            self._evict(now)
        return allowed, wait

    def wait(self, key, now=None):
        """Seconds until `key` may take again (0: now), without taking."""
        if self.rate <= 0:
            return 0
        now = time.monotonic() if now is None else now
        with self.lock:
            tokens, last = self.buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        return 0 if tokens >= 1 else int((1 - tokens) / self.rate) + 1

    def _evict(self, now, at_most=4):
        """Drop up to `at_most` buckets from the front: each that is full again (forgetting it
        changes nothing), and the oldest while there are more than max_clients. Amortised
        constant time: every bucket is added once and dropped at most once."""
        full_after = self.burst / self.rate
        for _ in range(at_most):
            if not self.buckets:
                return
            key, (_, last) = next(iter(self.buckets.items()))
            if now - last >= full_after or len(self.buckets) > self.max_clients:
                del self.buckets[key]
            else:
                return


def _ip(value):
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


class Health:
    """Whether the service can store a join request now, and why not.

    Fed by the writer's commits and by write probes; logs one line when the database turns
    unwritable and one when it takes writes again.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.db_error = None  # class name of the last write error while unwritable

    def write_result(self, error):
        name = None if error is None else type(getattr(error, "orig", None) or error).__name__
        with self.lock:
            before, self.db_error = self.db_error, name
        if before is None and name is not None:
            log.error("database not writable (%s): join requests get 503 until it is", name)
        elif before is not None and name is None:
            log.info("database writable again")

    @property
    def writable(self):
        return self.db_error is None


class Service:
    def __init__(self, config: Config, engine, registry, worker=None):
        self.config = config
        self.engine = engine
        self.registry = registry
        self.worker = worker
        self.health = Health()
        self.writer = GroupCommit(engine, on_result=self.health.write_result, limits=store.Limits(
            rate_per_minute=config.rate_per_minute, rate_burst=config.rate_burst,
            window_hours=config.recipient_window_hours, confirmations_per_window=config.confirmations_per_day,
            notifications_per_hour=config.notifications_per_hour))
        # A first filter in this process's memory, before the body is read; the limit that holds
        # for every instance is the shared one, counted in the database by the writer.
        self.limiter = RateLimiter(config.rate_per_minute, config.rate_burst)
        self.admin_failures = RateLimiter(config.admin_failures_per_minute, config.admin_failures_per_minute)
        self.trusted = config.trust_proxy
        self._hash_key = None
        self._probe_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="health-probe")
        self._probe = None  # the probe in progress (one at a time)
        self._probe_lock = threading.Lock()
        self._stop = threading.Event()

    # -- helpers --------------------------------------------------------------------------
    def is_trusted(self, address):
        ip = _ip(address) if address else None
        return ip is not None and any(ip in net for net in self.trusted)

    def is_https(self, request):
        """Whether the client came over TLS: to this process, or, as a trusted proxy says in
        X-Forwarded-Proto, to the proxy. From anyone else the header is ignored."""
        if request.url.scheme == "https":
            return True
        peer = request.client.host if request.client else ""
        if not self.is_trusted(peer):
            return False
        proto = request.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        return proto == "https"

    def client_key(self, request):
        """Who a client is, for its limits: its address, and for IPv6 its /64 network (one
        subscriber's line or one server usually has a whole /64 to pick addresses from)."""
        address = self.client_ip(request)
        ip = _ip(address)
        if ip is None or ip.version == 4:
            return address
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))

    def client_ip(self, request):
        """The client's address; behind a trusted proxy, the last X-Forwarded-For hop that is
        not itself a trusted proxy. X-Forwarded-For from anyone else is ignored."""
        peer = request.client.host if request.client else ""
        if not self.is_trusted(peer):
            return peer
        forwarded = request.headers.get("x-forwarded-for", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        while hops and self.is_trusted(hops[-1]):
            hops.pop()
        if hops:
            ip = _ip(hops[-1])
            return str(ip) if ip is not None else peer
        return peer

    # -- health ---------------------------------------------------------------------------
    def writer_problem(self):
        """'dead' / 'stalled' when the group-commit writer cannot take requests now."""
        return self.writer.stalled(self.config.writer_stall_seconds)

    def unavailable(self):
        """Why a join request cannot be stored now, or None."""
        problem = self.writer_problem()
        if problem:
            return f"writer {problem}"
        if not self.health.writable:
            return "database not writable"
        return None

    def probe(self):
        """Start a write probe (or join the one in progress); a concurrent.futures.Future."""
        with self._probe_lock:
            if self._probe is None or self._probe.done():
                self._probe = self._probe_pool.submit(self._probe_once)
            return self._probe

    def _probe_once(self):
        try:
            store.probe_write(self.engine, HEALTH_WAIT_MS)
        except Exception as e:  # noqa: BLE001 - any failure to write means: not writable
            self.health.write_result(e)
            return False
        self.health.write_result(None)
        return True

    def monitor(self, every=0.5):
        """Thread: restart a dead or hung writer; probe an unwritable database until it recovers."""
        logged = None
        while not self._stop.wait(every):
            problem = self.writer_problem()
            if problem != logged:
                if problem:
                    log.error("group-commit writer %s: join requests get 503", problem)
                elif logged:
                    log.info("group-commit writer working again")
                logged = problem
            if problem == "dead" or (problem and self.writer.stalled(self.config.writer_restart_seconds)):
                log.error("restarting the group-commit writer")
                self.writer.restart()
            if problem or not self.health.writable:
                with contextlib.suppress(Exception):
                    self.probe().result(timeout=10)

    def hash_key(self):
        if self._hash_key is None:
            self._hash_key = store.client_hash_key(self.engine)
        return self._hash_key

    def allowed(self, url):
        return origin_of(url) in self.config.allowed_origins

    def site(self, path):
        return self.config.site_url + path

    def thank_you(self, lang, next_url):
        if isinstance(next_url, str) and self.allowed(next_url):
            return next_url
        return self.site(self.config.site.thank_you_page(lang))

    def back_url(self, request, lang, network):
        # The network's page in the form's language: browsers send only the origin as Referer
        # from another origin (strict-origin-when-cross-origin), which would lead to the home page.
        if network is not None:
            return self.site(self.config.site.network_page(lang, network.slug))
        referer = request.headers.get("referer")
        if referer and self.allowed(referer):
            return referer
        return self.site(self.config.site.networks_page(lang))

    def check_origin(self, request, lang):
        origin = request.headers.get("origin")
        referer = request.headers.get("referer")
        if origin is not None:
            ok = self.allowed(origin)  # "null" (sandboxed or no-referrer pages) is not allowed
        elif referer is not None:
            ok = self.allowed(referer)
        else:
            ok = True  # no browser: curl, scripts. A browser always sends Origin on POST.
        if not ok:
            raise Reject(403, {"origin": gettext(lang, MSG_ORIGIN)}, message=("origin", MSG_ORIGIN))

    async def read_body(self, request, lang):
        limit = self.config.max_body_bytes
        too_large = Reject(413, {"request": gettext(lang, MSG_TOO_LARGE, kib=limit // 1024)})
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks, size = [], 0
        async for chunk in request.stream():  # counted as it arrives: Content-Length may lie
            size += len(chunk)
            if size > limit:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def sniff_lang(self, request, media_type, lang):
        """The `lang` field of a body that will not be processed (best effort, bounded)."""
        try:
            if media_type not in (FORM_TYPE, JSON_TYPE):
                return lang
            pairs = self.parse(media_type, await self.read_body(request, lang), lang)
            value = dict(reversed(pairs)).get("lang")
            return value if value in self.config.site.languages else lang
        except Exception:  # noqa: BLE001 - any problem: keep the Accept-Language choice
            return lang

    def parse(self, media_type, body, lang):
        """The (name, value) pairs of the body, in the order sent."""
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise Reject(400, {"request": gettext(lang, MSG_ENCODING)}) from None
        if media_type == JSON_TYPE:
            try:
                data = json.loads(text_body, object_pairs_hook=Pairs, parse_constant=_no_constants)
            except (ValueError, RecursionError):
                raise Reject(400, {"request": gettext(lang, MSG_BAD_JSON)}) from None
            if not isinstance(data, Pairs):
                raise Reject(400, {"request": gettext(lang, MSG_NOT_OBJECT)})
            if len(data) > MAX_FIELDS:
                raise Reject(400, {"request": gettext(lang, MSG_TOO_MANY)})
            return list(data)
        try:
            return parse_qsl(text_body, keep_blank_values=True, encoding="utf-8", errors="strict",
                             max_num_fields=MAX_FIELDS)
        except UnicodeDecodeError:
            raise Reject(400, {"request": gettext(lang, MSG_ENCODING)}) from None
        except ValueError:
            raise Reject(400, {"request": gettext(lang, MSG_TOO_MANY)}) from None

    # -- responses ------------------------------------------------------------------------
    def error_response(self, request, wants_json, lang, status, problems, network=None, headers=None,
                       field_problems=False):
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **(headers or {})}
        if wants_json:
            return JSONResponse({"errors": problems}, status_code=status, headers=headers)
        site_origin = origin_of(self.config.site_url)
        headers["Content-Security-Policy"] = (
            f"default-src 'none'; style-src {site_origin}; img-src {site_origin}; base-uri 'none'; "
            "form-action 'none'; frame-ancestors 'none'")
        headers["Referrer-Policy"] = "no-referrer"
        page = _templates.get_template("error.html").render(
            lang=lang, site_url=self.config.site_url, title=gettext(lang, MSG_TITLE),
            intro=gettext(lang, MSG_INTRO_FIELDS if field_problems else MSG_INTRO_REQUEST),
            problems=[(f, field_label(f, network, lang), m) for f, m in problems.items()],
            back_url=self.back_url(request, lang, network), back_text=gettext(lang, MSG_BACK))
        return HTMLResponse(page, status_code=status, headers=headers)

    # -- endpoints ------------------------------------------------------------------------
    def unavailable_response(self, request, wants_json, lang, network):
        return self.error_response(request, wants_json, lang, 503, {"service": gettext(lang, MSG_UNAVAILABLE)},
                                   network, {"Retry-After": RETRY_AFTER})

    async def join(self, request: Request):
        slug = request.path_params["slug"]
        lang = negotiate(request.headers.get("accept-language"))
        media_type, params = parse_options_header(request.headers.get("content-type", ""))
        media_type = media_type.decode("latin-1").lower()
        accept = request.headers.get("accept", "")
        wants_json = media_type == JSON_TYPE or (JSON_TYPE in accept and "text/html" not in accept)
        network = None
        try:
            allowed, wait = self.limiter.take(self.client_key(request))
            if not allowed:
                raise Reject(429, {"rate_limit": gettext(lang, MSG_RATE)}, {"Retry-After": str(wait)},
                             message=("rate_limit", MSG_RATE))
            self.check_origin(request, lang)
            charset = params.get(b"charset", b"utf-8").decode("latin-1").lower()
            if media_type not in (FORM_TYPE, JSON_TYPE) or charset not in ("utf-8", "utf8"):
                raise Reject(415, {"request": gettext(lang, MSG_MEDIA_TYPE)})
            body = await self.read_body(request, lang)
            pairs = self.parse(media_type, body, lang)
            values = dict(reversed(pairs))  # the first value of each name
            if values.get("lang") in self.config.site.languages:
                lang = values["lang"]
            gotcha = values.get("_gotcha")
            if gotcha not in (None, "", False) and not (isinstance(gotcha, str) and not gotcha.strip()):
                # Honeypot: a bot. It gets what a person gets; nothing is stored or sent. (The slug
                # is the client's until it names a network: not logged.)
                log.info("honeypot hit: not stored")
                return self.accepted(wants_json, lang, values.get("_next"), fake=True)
            network = self.registry.get(slug)
            if network is None:
                raise Reject(404, {"network": gettext(lang, MSG_NO_NETWORK)})
            if not network.join.open:
                raise Reject(409, {"network": gettext(lang, MSG_CLOSED)})
        except Reject as r:
            if r.language_unknown:
                # Rejected before the body was read: find the form's language for the message.
                lang = await self.sniff_lang(request, media_type, lang)
                r = r.retranslate(lang)
            return self.error_response(request, wants_json, lang, r.status, r.problems, network, r.headers)

        submission, problems = validate(pairs, network, lang)
        if problems:
            return self.error_response(request, wants_json, lang, 422, problems, network, field_problems=True)
        if self.unavailable():  # answered at once: the database or the writer is known not to take it now
            return self.unavailable_response(request, wants_json, lang, network)
        try:
            key = self._hash_key or await run_in_threadpool(self.hash_key)
            saving = self.writer.save(store.new_request(
                network=network, submission=submission, lang=lang,
                client_hash=store.client_hash(key, self.client_key(request)),
                user_agent=request.headers.get("user-agent", ""), coordinator_lang=self.config.coordinator_lang))
            # Not yet taken by the writer when the time is up: dropped, never stored. Taken: it
            # may still be stored, but it is not acknowledged.
            request_id = await asyncio.wait_for(saving, self.config.write_timeout)
        except TimeoutError:
            log.error("a join request for %s was not committed within %g s: 503", slug, self.config.write_timeout)
            return self.unavailable_response(request, wants_json, lang, network)
        except store.RateLimited as e:  # the limit shared by every instance (counted in the database)
            return self.error_response(request, wants_json, lang, 429, {"rate_limit": gettext(lang, MSG_RATE)},
                                       network, {"Retry-After": str(e.wait)})
        except Exception as e:  # noqa: BLE001 - not stored, so not acknowledged
            # The class only: a database error's text may quote what the applicant sent.
            log.error("could not store a join request for %s: %s", slug, type(e).__name__)
            return self.unavailable_response(request, wants_json, lang, network)
        log.info("join request %s for %s stored", request_id, slug)
        if self.worker is not None:
            self.worker.wakeup.set()
        return self.accepted(wants_json, lang, values.get("_next"), request_id)

    def accepted(self, wants_json, lang, next_url, request_id=None, fake=False):
        if fake:
            request_id = str(uuid.uuid4())  # looks like a real one; exists nowhere
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        if wants_json:
            return JSONResponse({"status": "accepted", "id": request_id}, status_code=201, headers=headers)
        return RedirectResponse(self.thank_you(lang, next_url), status_code=303, headers=headers)

    async def healthz(self, request):
        """200 when a write can be made now; 503 otherwise. Answers within about 1.5 s."""
        headers = {"Cache-Control": "no-store", "Retry-After": RETRY_AFTER}
        try:
            ok = await asyncio.wait_for(asyncio.wrap_future(self.probe()), HEALTH_WAIT_MS / 1000 + 0.5)
        except TimeoutError:
            ok = False
        problem = self.writer_problem()
        if problem or not ok:
            return JSONResponse({"status": "error", "database": "ok" if ok else "not writable",
                                 "writer": problem or "ok"}, status_code=503, headers=headers)
        try:
            counts = await asyncio.wait_for(run_in_threadpool(store.outbox_counts, self.engine), 0.5)
        except Exception:  # noqa: BLE001 - the counts are extra information, not health
            counts = None
        return JSONResponse({"status": "ok", "database": "ok", "writer": "ok", "outbox": counts},
                            headers={"Cache-Control": "no-store"})

    def authorised(self, request):
        token = self.config.admin_token
        if not token:
            return JSONResponse({"error": "the admin API is disabled: set FORMSERVICE_ADMIN_TOKEN"}, status_code=403)
        client = self.client_key(request)
        wait = self.admin_failures.wait(client)
        if wait:
            return JSONResponse({"error": "too many failed sign-ins; wait and try again"}, status_code=429,
                                headers={"Retry-After": str(wait)})
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            self.admin_failures.take(client)
            log.warning("admin sign-in failed: %s %s from %s", request.method, request.url.path, client)
            return JSONResponse({"error": "a valid Authorization: Bearer <token> is needed"}, status_code=401,
                                headers={"WWW-Authenticate": 'Bearer realm="formservice"'})
        return None

    async def export(self, request):
        denied = self.authorised(request)
        if denied:
            return denied
        slug, fmt = request.path_params["slug"], request.path_params["fmt"]
        if fmt not in ("csv", "json"):
            return JSONResponse({"error": "use requests.csv or requests.json"}, status_code=404)
        network = self.registry.get(slug)
        rows = await run_in_threadpool(store.requests_of, self.engine, slug)
        if network is None and not rows:
            return JSONResponse({"error": f"no network {slug!r}"}, status_code=404)
        body = export.render(fmt, rows, slug, network)
        media = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        return Response(body, media_type=media, headers={
            "Content-Disposition": f'attachment; filename="{slug}-requests.{fmt}"', "Cache-Control": "no-store"})

    async def erase(self, request):
        """POST /admin/erase {"email": "..."}: the address travels in the body, never in a URL."""
        denied = self.authorised(request)
        if denied:
            return denied
        try:
            data = json.loads(await self.read_body(request, self.config.site.default))
        except Reject as r:
            return JSONResponse({"errors": r.problems}, status_code=r.status)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("email"), str):
            return JSONResponse({"errors": {"request": 'send {"email": "..."} as JSON'}}, status_code=400)
        email = normalise_email(data["email"].strip())
        if email is None:
            return JSONResponse({"errors": {"email": "not a valid e-mail address"}}, status_code=400)
        erased = await run_in_threadpool(store.erase, self.engine, email, self.registry.all(),
                                         self.config.coordinator_lang)
        log.info("erased one applicant: %d requests, %d mails, %d digest lines; %d coordinators told",
                 erased.requests, erased.mails, erased.digest_lines, erased.notices)
        if self.worker is not None:
            self.worker.wakeup.set()
        return JSONResponse({"deleted_requests": erased.requests, "deleted_mails": erased.mails,
                             "removed_digest_lines": erased.digest_lines, "coordinators_told": erased.notices})


def create_app(config: Config, engine=None, registry=None, worker=None, run_worker=False):
    """The ASGI app. Its lifespan runs the group-commit writer (and, with run_worker, `worker`) in threads."""
    i18n.use(config.site)
    engine = engine if engine is not None else make_engine(config.database_url)
    registry = registry if registry is not None else Registry(config.networks_dir)
    service = Service(config, engine, registry, worker)

    @contextlib.asynccontextmanager
    async def lifespan(app):
        thread = None
        service.writer.start()
        monitor = threading.Thread(target=service.monitor, name="health-monitor", daemon=True)
        monitor.start()
        if worker is not None and run_worker:
            thread = threading.Thread(target=worker.run_forever, name="outbox-worker", daemon=True)
            thread.start()
        try:
            yield
        finally:
            service._stop.set()
            service._probe_pool.shutdown(wait=False)
            await run_in_threadpool(service.writer.stop)
            if thread is not None:
                worker.stop()
                await run_in_threadpool(thread.join, 30)

    routes = [
        Route("/join/{slug}", service.join, methods=["POST"]),
        Route("/healthz", service.healthz, methods=["GET"]),
        Route("/admin/networks/{slug}/requests.{fmt}", service.export, methods=["GET"]),
        Route("/admin/erase", service.erase, methods=["POST"]),
        *oauth.routes(config.site_url, is_https=service.is_https, client_key=service.client_key,
                      limiter=RateLimiter(oauth.LOGINS_PER_MINUTE, oauth.LOGINS_PER_MINUTE)),
    ]
    middleware = [Middleware(CORSMiddleware, allow_origins=list(config.allowed_origins), allow_methods=["POST"],
                             allow_headers=["Content-Type", "Accept", "Accept-Language"], max_age=600)]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
    app.state.service = service
    return app

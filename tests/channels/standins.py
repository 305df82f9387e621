"""Loopback stand-ins for Africa's Talking's and Twilio's APIs, for the real SDKs: SMS,
AT voice's `/call`, and Twilio's Calls.

Each stand-in is a small threaded HTTP server on 127.0.0.1 (a random port) that answers
like the provider closely enough for its official SDK, records every request it gets,
and can be told to answer differently for the next requests: an HTTP error, a provider
error code, or a delay longer than the client's timeout.

    with AfricasTalkingStandIn(username="kuma", api_key="k") as at:
        sender = AfricasTalkingSender("kuma", "k", "KUMA", api_base=at.url)
        at.answer_next(500, "Internal Server Error")
        ...
        assert at.requests[0].form["to"] == "+22376123456"

No pytest here, so other tests can import it; tests/channels/conftest.py has fixtures.
"""

from __future__ import annotations

import base64
import collections
import json
import re
import threading
import uuid
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class RecordedRequest:
    """A request a stand-in received; `headers` keys are lower-case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str
    form: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    """What to answer one request: status, body (dict: JSON), content type, delay."""

    status: int
    body: str | dict
    content_type: str = "text/plain"
    delay: float = 0.0


class StandIn:
    """Base of the stand-ins: server, recording, scripted answers."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._script: collections.deque[Answer] = collections.deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.standin = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        """Return the base URL, e.g. http://127.0.0.1:54321."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> StandIn:
        """Start serving in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed answers still pending give up at once."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StandIn:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def answer_next(self, status: int, body: str | dict = "", *,
                    content_type: str | None = None, delay: float = 0.0) -> None:
        """Answer the next unscripted request with this status and body (dict: JSON)."""
        if content_type is None:
            content_type = "application/json" if isinstance(body, dict) else "text/plain"
        with self._lock:
            self._script.append(Answer(status, body, content_type, delay))

    def delay_next(self, seconds: float) -> None:
        """Answer the next request normally, but only after `seconds`."""
        with self._lock:
            self._script.append(Answer(0, "", delay=seconds))

    def respond(self, request: RecordedRequest) -> Answer:
        """Return the provider's normal answer to `request` (each stand-in's own)."""
        raise NotImplementedError

    def _handle(self, request: RecordedRequest) -> Answer:
        with self._lock:
            self.requests.append(request)
            scripted = self._script.popleft() if self._script else None
        if scripted is not None and scripted.delay:
            self._stopping.wait(scripted.delay)
        if scripted is None or scripted.status == 0:
            return self.respond(request)
        return scripted


class _Handler(BaseHTTPRequestHandler):
    server_version = "StandIn/1.0"

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        parts = urlsplit(self.path)
        headers = {key.lower(): value for key, value in self.headers.items()}
        form = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        request = RecordedRequest(
            method=self.command, path=parts.path,
            query={k: v[0] for k, v in parse_qs(parts.query).items()},
            headers=headers, body=body, form=form)
        answer = self.server.standin._handle(request)  # type: ignore[attr-defined]
        payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
        data = payload.encode("utf-8")
        try:
            self.send_response(answer.status)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a timeout test): nothing left to tell it

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # quiet: tests read `requests`, not the server's access log


class AfricasTalkingStandIn(StandIn):
    """Africa's Talking's `POST /version1/messaging` (bulk SMS), checking username and apiKey."""

    def __init__(self, *, username: str = "kuma", api_key: str = "at-test-key") -> None:
        super().__init__()
        self.username = username
        self.api_key = api_key
        self._rejections: collections.deque[dict] = collections.deque()

    def reject_next(self, status_code: int, status: str) -> None:
        """Answer the next normal send with 201 but this per-recipient statusCode (e.g. 406)."""
        with self._lock:
            self._rejections.append({"statusCode": status_code, "status": status})

    def respond(self, request: RecordedRequest) -> Answer:
        """Answer like AT: 401 on bad credentials, else 201 with one entry per number."""
        if request.path == "/voice/call" and request.method == "POST":
            return self._call(request)
        if request.path != "/version1/messaging" or request.method != "POST":
            return Answer(404, "Not Found")
        if (request.headers.get("apikey") != self.api_key
                or request.form.get("username") != self.username):
            return Answer(401, "The supplied authentication is invalid")
        with self._lock:
            recipient = self._rejections.popleft() if self._rejections else None
        recipients = []
        for number in request.form.get("to", "").split(","):
            if recipient is None:
                recipients.append({"statusCode": 101, "number": number, "status": "Success",
                                   "cost": "XOF 15.0000",
                                   "messageId": f"ATXid_{uuid.uuid4().hex}"})
            else:
                recipients.append({"number": number, "cost": "0", "messageId": "None",
                                   **recipient})
        sent = sum(1 for r in recipients if r["statusCode"] in (100, 101, 102))
        message = f"Sent to {sent}/{len(recipients)} Total Cost: XOF {15 * sent}.0000"
        return Answer(201, {"SMSMessageData": {"Message": message, "Recipients": recipients}},
                      "application/json")


    def _call(self, request: RecordedRequest) -> Answer:
        """Answer AT voice's `POST /call`: one entry per number called, Queued."""
        if (request.headers.get("apikey") != self.api_key
                or request.form.get("username") != self.username):
            return Answer(401, "The supplied authentication is invalid")
        if not request.form.get("from"):
            return Answer(200, {"entries": [], "errorMessage": "Invalid callerId"},
                          "application/json")
        entries = [{"phoneNumber": number, "status": "Queued",
                    "sessionId": f"ATVId_{uuid.uuid4().hex}"}
                   for number in request.form.get("to", "").split(",")]
        return Answer(200, {"entries": entries, "errorMessage": "None"}, "application/json")


class TwilioStandIn(StandIn):
    """Twilio's Messages and Calls APIs (`POST …/Messages.json`, `POST …/Calls.json`,
    `GET …/Calls/{CallSid}.json`), checking Basic auth.

    A placed call is `queued`, with no price, until a test `finish_call`es it.
    """

    _PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/"
                       r"(?P<resource>Messages|Calls(?:/(?P<call>CA\w+))?)\.json$")

    def __init__(self, *, account_sid: str = "AC" + "0123456789abcdef" * 2,
                 auth_token: str = "twilio-test-token") -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.calls: dict[str, dict] = {}

    def finish_call(self, sid: str, *, status: str = "completed", duration: int = 0,
                    price: str | None = None) -> None:
        """End a placed call as Twilio would: its status, duration and (later) price."""
        with self._lock:
            self.calls[sid].update(status=status, duration=str(duration), price=price)

    def error_next(self, http_status: int, code: int, message: str) -> None:
        """Answer the next request with Twilio's JSON error body."""
        self.answer_next(http_status, {
            "code": code, "message": message, "status": http_status,
            "more_info": f"https://www.twilio.com/docs/errors/{code}"})

    def respond(self, request: RecordedRequest) -> Answer:
        """Answer like Twilio: 401 on bad credentials, else 201 with a Message resource."""
        match = self._PATH.match(request.path)
        if match is None or request.method != ("GET" if match["call"] else "POST"):
            return _twilio_not_found()
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if (request.headers.get("authorization") != f"Basic {expected}"
                or match["sid"] != self.account_sid):
            return Answer(401, {"code": 20003, "message": "Authenticate", "status": 401,
                                "more_info": "https://www.twilio.com/docs/errors/20003"},
                          "application/json")
        if match["resource"] != "Messages":
            return self._call(request, match["call"])
        sid = "SM" + uuid.uuid4().hex
        service = request.form.get("MessagingServiceSid")
        now = formatdate(usegmt=True)
        return Answer(201, {
            "sid": sid, "account_sid": self.account_sid, "messaging_service_sid": service,
            "to": request.form.get("To"), "from": request.form.get("From"),
            "body": request.form.get("Body"), "status": "accepted" if service else "queued",
            "num_segments": "1", "num_media": "0", "direction": "outbound-api",
            "api_version": "2010-04-01", "price": None, "price_unit": "USD",
            "error_code": None, "error_message": None, "date_created": now,
            "date_updated": now, "date_sent": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            "subresource_uris": {}}, "application/json")

    def _call(self, request: RecordedRequest, sid: str | None) -> Answer:
        """Place a call (POST, needs To, From and Url or Twiml), or read one (GET)."""
        if sid is not None:
            with self._lock:
                call = self.calls.get(sid)
            return Answer(200, dict(call), "application/json") if call else _twilio_not_found()
        form = request.form
        if not form.get("To") or not form.get("From") or not (form.get("Url") or form.get("Twiml")):
            return Answer(400, {"code": 21205, "message": "Url parameter is required.",
                                "status": 400}, "application/json")
        sid = "CA" + uuid.uuid4().hex
        now = formatdate(usegmt=True)
        call = {
            "sid": sid, "account_sid": self.account_sid, "to": form["To"], "from": form["From"],
            "status": "queued", "direction": "outbound-api", "duration": None, "price": None,
            "price_unit": "USD", "answered_by": None, "api_version": "2010-04-01",
            "caller_name": None, "date_created": now, "date_updated": now, "start_time": None,
            "end_time": None, "parent_call_sid": None, "phone_number_sid": None,
            "forwarded_from": None, "group_sid": None, "queue_time": "0", "trunk_sid": None,
            "annotation": None, "to_formatted": form["To"], "from_formatted": form["From"],
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}.json",
            "subresource_uris": {}}
        with self._lock:
            self.calls[sid] = call
        return Answer(201, dict(call), "application/json")


def _twilio_not_found() -> Answer:
    return Answer(404, {"code": 20404, "message": "The requested resource was not found",
                        "status": 404}, "application/json")

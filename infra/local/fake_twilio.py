"""A fake of Twilio's REST API on loopback, for `make dev` and the e2e tests.

The real `twilio` client reaches it through `TWILIO_API_BASE` (keel.notifications.providers). It
answers what the code relies on, as Twilio does: `POST .../Messages.json` (201 with a message sid,
or Twilio's error JSON: 21211 for an invalid number, 21614 for a landline, 20003 for an auth token
of "bad"), `GET .../Accounts/<sid>.json`. Each accepted message is printed on the console (`sms`,
`whatsapp`) and, when it names a `StatusCallback`, answered by signed `sent` then `delivered`
callbacks, as Twilio would. `GET /_fake/state` lists what was sent.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode

from infra.local import console

MAGIC_INVALID = {"+15005550001"}  # Twilio's test numbers that answer 21211
RECEIPT_DELAY_SECONDS = 0.3
_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)/Messages\.json$")
_ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<sid>AC\w+)\.json$")


def refusal(to: str) -> tuple[int, int, str] | None:
    """Twilio's answer for a number it will not text, else None (phonenumbers decides, as Twilio's lookup)."""
    import phonenumbers

    if to in MAGIC_INVALID:
        return 400, 21211, f"The 'To' number {to} is not a valid phone number."
    try:
        parsed = phonenumbers.parse(to, None)
    except phonenumbers.NumberParseException:
        return 400, 21211, f"The 'To' number {to} is not a valid phone number."
    if not phonenumbers.is_valid_number(parsed):
        return 400, 21211, f"The 'To' number {to} is not a valid phone number."
    if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.FIXED_LINE:
        return 400, 21614, f"'To' number {to} is not a valid mobile number"
    return None


class TwilioState:
    def __init__(self, receipts: bool) -> None:
        self.lock = threading.Lock()
        self.sent: list[dict[str, str]] = []
        self.refused: list[dict[str, Any]] = []
        self.sids = (f"SM{n:032x}" for n in itertools.count(1))
        self.receipts = receipts


def _signed_post(url: str, token: str, params: dict[str, str]) -> None:
    from twilio.request_validator import RequestValidator

    signature = RequestValidator(token).compute_signature(url, params)
    request = urllib.request.Request(
        url,
        data=urlencode(params).encode(),
        method="POST",
        headers={"content-type": "application/x-www-form-urlencoded", "x-twilio-signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=10):
            pass
    except OSError as exc:
        console.warn(f"twilio status callback not delivered: {exc}")


class Handler(BaseHTTPRequestHandler):
    state: TwilioState

    def log_message(self, *args: Any) -> None:  # noqa: ARG002  (quiet)
        return

    def _send(self, status: int, body: Any) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _error(self, status: int, code: int, message: str) -> None:
        more = f"https://www.twilio.com/docs/errors/{code}"
        self._send(status, {"code": code, "message": message, "more_info": more, "status": status})

    def _credentials(self) -> tuple[str, str]:
        auth = self.headers.get("Authorization") or ""
        if not auth.startswith("Basic "):
            return "", ""
        sid, _, token = base64.b64decode(auth[6:]).decode(errors="replace").partition(":")
        return sid, token

    def do_GET(self) -> None:
        s = self.state
        if self.path == "/_fake/state":
            with s.lock:
                return self._send(200, {"sent": s.sent, "refused": s.refused})
        matched = _ACCOUNT.match(self.path)
        sid, token = self._credentials()
        if matched and sid == matched["sid"] and token != "bad":
            return self._send(200, {"sid": sid, "status": "active", "type": "Full"})
        if matched:
            return self._error(401, 20003, "Authenticate")
        return self._error(404, 20404, "The requested resource was not found")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        form = dict(parse_qsl(raw, keep_blank_values=True))
        matched = _MESSAGES.match(self.path)
        if not matched:
            return self._error(404, 20404, "The requested resource was not found")
        sid, token = self._credentials()
        if sid != matched["sid"] or not token or token == "bad":
            return self._error(401, 20003, "Authenticate")
        to = form.get("To", "")
        whatsapp = to.startswith("whatsapp:")
        error = refusal(to.removeprefix("whatsapp:"))
        if error:
            with self.state.lock:
                self.state.refused.append({"to": to, "code": error[1]})
            console.line("whatsapp" if whatsapp else "sms", f"to {to} refused: {error[1]} {error[2]}")
            return self._error(*error)
        with self.state.lock:
            message_sid = next(self.state.sids)
            self.state.sent.append({**form, "sid": message_sid})
        console.line(
            "whatsapp" if whatsapp else "sms",
            f"to {to} from {form.get('From', '')} ({message_sid})\n"
            + "\n".join(f"         | {line}" for line in form.get("Body", "").splitlines()),
        )
        self._send(
            201,
            {
                "sid": message_sid,
                "account_sid": sid,
                "status": "queued",
                "to": to,
                "from": form.get("From"),
                "body": form.get("Body"),
                "num_segments": "1",
            },
        )
        callback = form.get("StatusCallback")
        if callback and self.state.receipts:
            threading.Thread(
                target=self._receipts, args=(callback, token, sid, message_sid, form), daemon=True
            ).start()
        return None

    @staticmethod
    def _receipts(url: str, token: str, account: str, message_sid: str, form: dict[str, str]) -> None:
        stop = threading.Event()
        for status in ("sent", "delivered"):
            stop.wait(RECEIPT_DELAY_SECONDS)
            params = {
                "MessageSid": message_sid,
                "SmsSid": message_sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": account,
                "To": form.get("To", ""),
                "From": form.get("From", ""),
                "ApiVersion": "2010-04-01",
            }
            _signed_post(url, token, params)


class FakeTwilio:
    def __init__(self, *, receipts: bool = True) -> None:
        self.state = TwilioState(receipts)
        handler = type("BoundTwilioHandler", (Handler,), {"state": self.state})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="fake-twilio", daemon=True)

    def start(self) -> FakeTwilio:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


DEMO_ACCOUNT_SID = "AC" + "d" * 32
DEMO_FROM_NUMBER = "+15005550006"  # Twilio's magic "valid from" test number


def configure_demo_sms(api_url: str, admin_token: str, tenant_id: str) -> dict[str, str]:
    """The demo tenant's SMS and WhatsApp channels on, with local credentials (through the API)."""
    import secrets

    auth_token = secrets.token_hex(16)
    for channel in ("sms", "whatsapp"):
        body = {
            "channel": channel,
            "enabled": True,
            "settings": {"from_number": DEMO_FROM_NUMBER},
            "credentials": {"account_sid": DEMO_ACCOUNT_SID, "auth_token": auth_token},
        }
        request = urllib.request.Request(
            f"{api_url}/notifications/channels?{urlencode({'tenant_id': tenant_id})}",
            data=json.dumps(body).encode(),
            method="PUT",
            headers={"content-type": "application/json", "authorization": f"Bearer {admin_token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30):
                pass
        except OSError as exc:
            console.warn(f"the demo tenant's {channel} channel is not configured: {exc}")
            return {}
    return {"demo_twilio_account_sid": DEMO_ACCOUNT_SID, "demo_twilio_auth_token": auth_token}

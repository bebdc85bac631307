"""Delivering notifications: their channels in order, each hop recorded, fallback on permanent failure.

    claimed (sending, with a lease) -> quiet hours? -> for each channel not yet final:
        channel off / opted out / limit reached / no address -> `skipped`, next channel
        provider: sent -> done; permanent failure -> `failed` hop, next channel;
                  transient failure -> back to `queued`, RetryLater (SQS retries with backoff, then DLQ)

A notification is claimed with a conditional write, so two workers never deliver it together; a
worker that dies mid-way leaves a lease that expires, and the next delivery resumes after the hops
already final. The inbox entry is written once (conditional), whatever the retries.

Notifications of one tenant are delivered in rounds (`deliver_all`; one notification is a round of
one): their reads are fetched together (users, preferences, the tenant, channel settings and, for
e-mail, suppressed addresses: a few BatchGetItem calls), the channels' quota is taken for the
round in one reservation (what is not used is given back when the round ends), and each
notification's writes (hops, status, inbox entry, provider pointer) are one unit, committed in
packs of up to 100 items (`commit_each`). A provider's answer does not wait: the buffer is written
after each delivery that called a provider, so a crash repeats at most the message in flight, as
it would one at a time. What else waits (inbox entries, skipped hops) has no effect outside the
table until written: a crash loses it and the retry does it once.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta
from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.notifications import providers, render, repo, secrets
from keel.notifications.models import MANDATORY, RANK, Category, Channel, Status
from keel.store.change import Tx, commit_each

LEASE_SECONDS = 60
DEFAULT_ON = frozenset({Channel.EMAIL, Channel.IN_APP})  # the others need a provider's settings first


class RetryLater(Exception):
    """A transient provider failure: the queue retries the message with backoff."""


def _masked(channel: str, to: str) -> str:
    if channel in {Channel.SMS, Channel.WHATSAPP}:
        return f"{to[:3]}{'*' * max(0, len(to) - 5)}{to[-2:]}"
    if channel == Channel.EMAIL and "@" in to:
        local, _, domain = to.partition("@")
        return f"{local[:1]}***@{domain}"
    return to[:6] + "…" if channel == Channel.PUSH else to


def quiet_until(prefs: dict[str, Any], now: datetime) -> datetime | None:
    """The end of the user's quiet hours if `now` is inside them."""
    quiet = prefs.get("quiet_hours")
    if not quiet:
        return None
    from zoneinfo import ZoneInfo

    local = now.astimezone(ZoneInfo(quiet.get("timezone") or "UTC"))
    start, end = (time.fromisoformat(quiet["start"]), time.fromisoformat(quiet["end"]))
    t = local.time().replace(second=0, microsecond=0)
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    ends = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ends <= local:
        ends += timedelta(days=1)
    return ends


def opted_out(prefs: dict[str, Any], category: str, channel: str) -> bool:
    if category in MANDATORY:
        return False
    if prefs.get("channels", {}).get(channel) is False:
        return True
    return prefs.get("categories", {}).get(category, {}).get(channel) is False


class Reads:
    """What a round of deliveries reads, fetched together; templates read once per round."""

    def __init__(self, tenant_id: str, notifications: list[dict[str, Any]]) -> None:
        from keel.tenants import repo as tenants
        from keel.users import repo as users

        self.repo = repo.for_tenant(tenant_id)
        people = users.for_tenant(tenant_id)
        user_keys = {n["user_id"]: people.key(n["user_id"]) for n in notifications if n.get("user_id")}
        tenant_key = tenants.for_tenant(tenant_id).key
        channels = list(dict.fromkeys(c for n in notifications for c in n["channels"]))
        found, self.prefs, self.configs = self.repo.delivery_reads(
            [*user_keys.values(), tenant_key], list(user_keys), channels
        )
        self.users = {
            user_id: users.from_item(found[key])
            for user_id, key in user_keys.items()
            if key in found and found[key].get("entity") == "user"
        }
        tenant = tenants.from_item(found[tenant_key]) if tenant_key in found else None
        self.tenant = render.tenant_context(tenant_id, tenant)
        self._templates: dict[tuple[str, str, str], dict[str, Any] | None] = {}
        self._checked: set[str] = set()
        self._suppressed: set[str] = set()
        if len(notifications) > 1 and Channel.EMAIL in channels:
            self._checked = {a for n in notifications if (a := self.email_of(n))}
            self._suppressed = self.repo.suppressed_among(sorted(self._checked))

    def email_of(self, n: dict[str, Any]) -> str | None:
        user = self.users.get(n.get("user_id") or "")
        return n.get("email") or (user.notification_email or user.email if user else None)

    def suppressed(self, address: str) -> bool:
        if address in self._checked:
            return address in self._suppressed
        return self.repo.suppressed(address)

    def template(self, name: str, channel: str, locale: str) -> dict[str, Any] | None:
        wanted = (name, channel, locale)
        if wanted not in self._templates:
            self._templates[wanted] = self.repo.template_for(name, channel, locale)
        return self._templates[wanted]


@dataclass
class Outcome:
    """What a delivery did to one notification, written as one unit (`Writes.flush`)."""

    hops: dict[str, dict[str, Any]] = field(default_factory=dict)
    status: str = Status.SENDING.value
    final: bool = False  # the claim ends: a last status, `queued` to retry, or `deferred`
    due: str | None = None
    inbox: tuple[str, dict[str, Any]] | None = None  # (user id, entry)
    pointer: tuple[str, str, str] | None = None  # (provider, its message id, channel)

    def end(self, status: str, due: str | None = None) -> None:
        self.status, self.final, self.due = status, True, due


class Writes:
    """The round's outcomes, one unit per notification, committed in packs (`commit_each`)."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.repo = repo.for_tenant(tenant_id)
        self.outcomes: dict[str, Outcome] = {}

    def of(self, notification_id: str) -> Outcome:
        return self.outcomes.setdefault(notification_id, Outcome())

    def _unit(self, notification_id: str, o: Outcome) -> Tx:
        tx = Tx()
        self.repo.finish(tx, notification_id, hops=o.hops, status=o.status, final=o.final, due=o.due)
        if o.inbox is not None:
            self.repo.add_inbox(tx, *o.inbox)
        if o.pointer is not None:
            provider, message_id, channel = o.pointer
            repo.point(tx, provider, message_id, self.tenant_id, notification_id, channel)
        return tx

    def flush(self) -> None:
        if not self.outcomes:
            return
        outcomes, self.outcomes = self.outcomes, {}
        units = [self._unit(notification_id, o) for notification_id, o in outcomes.items()]
        for (notification_id, o), error in zip(outcomes.items(), commit_each(units), strict=True):
            if error is None:
                continue
            if (
                isinstance(error, KeelError)
                and o.inbox is not None
                and self.repo.in_inbox(o.inbox[0], notification_id)
            ):
                # the inbox entry is there (a delivery retried after a crash): delivered once
                self._unit(notification_id, replace(o, inbox=None)).commit()
                continue
            raise error  # a conflict or a throttle: the message comes back, the claim's lease ends


class Quota:
    """Takes sends from the channels' daily (and per-minute) counters.

    For a round, the first send of a channel reserves as many as the round may make, in one write;
    what is not used is given back when the round ends. A reservation the limits refuse falls
    back to one send at a time, which stops exactly at the limit.
    """

    def __init__(self, store: repo.NotifyRepo, expected: Counter[str]) -> None:
        self.repo, self.expected = store, expected
        self.left: dict[str, int] = {}
        self.taken: dict[str, tuple[datetime, dict[str, Any]]] = {}

    @staticmethod
    def _limits(config: dict[str, Any]) -> dict[str, Any]:
        return {
            "daily_limit": config.get("daily_limit"),
            "cost": float(config.get("cost_per_message") or 0),
            "cost_limit": config.get("daily_cost_limit"),
            "rate": config.get("rate_per_minute"),
        }

    def take(self, channel: str, config: dict[str, Any]) -> str | None:
        """Counts one send; the limit it hits, or None."""
        if self.left.get(channel, 0) > 0:
            self.left[channel] -= 1
            return None
        wanted = self.expected.pop(channel, 1)
        if wanted > 1:
            now = clock.now()
            if self.repo.take_quota(channel, **self._limits(config), count=wanted, now=now) is None:
                self.left[channel], self.taken[channel] = wanted - 1, (now, config)
                return None
        return self.repo.take_quota(channel, **self._limits(config))

    def settle(self) -> None:
        """Gives back what the round reserved and did not send."""
        for channel, left in self.left.items():
            if left > 0:
                now, config = self.taken[channel]
                limits = self._limits(config)
                self.repo.give_back_quota(
                    channel, count=left, cost=limits["cost"], rate=limits["rate"] is not None, now=now
                )
        self.left.clear()


class Delivery:
    def __init__(
        self, tenant_id: str, notification: dict[str, Any], reads: Reads, writes: Writes, quota: Quota
    ) -> None:
        self.tenant_id = tenant_id
        self.reads, self.writes, self.quota = reads, writes, quota
        self.n = notification
        self.id = notification["notification_id"]
        self.called_provider = False
        self.user = reads.users.get(notification.get("user_id") or "")
        self.prefs = reads.prefs.get(self.user.user_id, {}) if self.user else {}
        self.configs = reads.configs
        self.context = {
            "user": render.user_context(self.user, notification.get("email"), notification.get("phone")),
            "tenant": reads.tenant,
            "event": notification.get("event") or {},
            "data": (notification.get("content") or {}).get("data") or {},
        }

    @property
    def outcome(self) -> Outcome:
        """What is left to write of this delivery."""
        return self.writes.of(self.id)

    # one hop ------------------------------------------------------------------------------

    def _hop(self, channel: str, status: Status, to: str | None = None, **extra: Any) -> dict[str, Any]:
        hop = {"channel": channel, "status": status.value, "rank": RANK[status], "at": clock.iso()}
        if to:
            hop["to"] = _masked(channel, to)
        hop.update({k: v for k, v in extra.items() if v is not None})
        return hop

    def _address(self, channel: str) -> str | list[str] | None:
        n, user = self.n, self.user
        if channel == Channel.EMAIL:
            return self.reads.email_of(n)
        if channel in {Channel.SMS, Channel.WHATSAPP}:
            return n.get("phone") or (user.phone if user else None)
        if channel == Channel.PUSH:
            return list(self.prefs.get("push_tokens") or []) or None
        return user.user_id if user else None

    def _content(self, channel: str) -> tuple[str | None, str, str | None] | dict[str, Any]:
        """(subject, text, html) rendered for the channel, or a failed hop's fields."""
        content = self.n.get("content") or {}
        subject, body = content.get("subject"), content.get("body")
        if content.get("template"):
            locale = self.prefs.get("locale") or "en"
            template = self.reads.template(content["template"], channel, locale)
            if template is None:
                return {
                    "error": "no_template",
                    "advice": f"No {channel} template named {content['template']!r}.",
                }
            subject, body = template.get("subject"), template["body"]
        try:
            text = render.render(body or "", self.context)
            title = render.render(subject, self.context, field="subject") if subject else None
            html = render.render(body or "", self.context, html=True) if channel == Channel.EMAIL else None
        except KeelError as exc:
            return {"error": "template_error", "advice": exc.message}
        return title, text, html

    def attempt(self, channel: str) -> dict[str, Any]:  # noqa: PLR0911 - one return per reason
        config = self.configs.get(channel) or {}
        category = self.n.get("category", Category.ALERTS)
        if not config.get("enabled", channel in DEFAULT_ON):
            return self._hop(
                channel, Status.SKIPPED, error="channel_off", advice=f"The {channel} channel is off."
            )
        if opted_out(self.prefs, category, channel):
            return self._hop(channel, Status.SKIPPED, error="opted_out", advice="The recipient opted out.")
        to = self._address(channel)
        if not to:
            advice = {
                Channel.PUSH: "The user has no registered device (no push token).",
                Channel.IN_APP: "In-app messages need a user, not an address.",
            }.get(Channel(channel), f"No {channel} address for the recipient.")
            code = "no_push_token" if channel == Channel.PUSH else "no_address"
            return self._hop(channel, Status.FAILED, error=code, advice=advice)
        if channel == Channel.EMAIL and isinstance(to, str) and self.reads.suppressed(to):
            return self._hop(
                channel, Status.SKIPPED, to, error="suppressed", advice="The address bounced before."
            )
        rendered = self._content(channel)
        if isinstance(rendered, dict):
            return self._hop(channel, Status.FAILED, error=rendered["error"], advice=rendered["advice"])
        subject, text, html = rendered
        limit = self.quota.take(channel, config)
        if limit == "rate_per_minute":
            raise RetryLater(f"{channel} rate limit")
        if limit:
            return self._hop(
                channel,
                Status.SKIPPED,
                error=limit,
                advice=f"The channel's {limit.replace('_', ' ')} is reached.",
            )
        return self._send(channel, config, to, subject, text, html)

    def _send(
        self, channel: str, config: dict[str, Any], to: Any, subject: str | None, text: str, html: str | None
    ) -> dict[str, Any]:
        settings = config.get("settings") or {}
        if channel == Channel.IN_APP:
            entry = {
                "notification_id": self.id,
                "subject": subject,
                "body": text,
                "category": self.n.get("category"),
                "created_at": self.n["created_at"],
            }
            self.outcome.inbox = (str(to), entry)  # written with the hop: once, whatever the retries
            return self._hop(channel, Status.DELIVERED, to)
        self.called_provider = True  # its outcome is written before the next delivery (`deliver_all`)
        if channel == Channel.EMAIL:
            outcome = providers.send_email(str(to), subject or "", text, html, settings.get("from_address"))
            provider = "ses"
        elif channel == Channel.PUSH:
            outcome = providers.send_push(settings.get("platform_application_arn"), list(to), subject, text)
            provider = "sns"
        else:
            outcome = providers.send_twilio(
                secrets.read(self.tenant_id, channel),
                settings.get("from_number", ""),
                str(to),
                text,
                whatsapp=channel == Channel.WHATSAPP,
                callback=providers.status_callback_url(self.tenant_id),
            )
            provider = "twilio"
        shown = to if isinstance(to, str) else None
        if not outcome.ok and not outcome.permanent:
            raise RetryLater(f"{channel}: {outcome.code}")
        if not outcome.ok:
            return self._hop(channel, Status.FAILED, shown, error=outcome.code, advice=outcome.advice)
        if outcome.provider_id:
            self.outcome.pointer = (provider, outcome.provider_id, channel)
        return self._hop(channel, Status.SENT, shown, provider_id=outcome.provider_id)

    # the whole notification -----------------------------------------------------------------

    def run(self) -> str:
        category = self.n.get("category")
        if self.user and category not in MANDATORY and not self.n.get("urgent"):
            ends = quiet_until(self.prefs, clock.now())
            if ends is not None:
                self.outcome.end(Status.DEFERRED.value, due=clock.iso(ends))
                return Status.DEFERRED.value
        hops = self.n.get("hops") or {}
        channels = list(self.n["channels"])
        for i, channel in enumerate(channels):
            done = hops.get(channel)
            if done and done["status"] in {Status.SENT, Status.DELIVERED}:
                self.outcome.end(str(done["status"]))
                return str(done["status"])
            if done and done["status"] in {Status.FAILED, Status.SKIPPED, Status.BOUNCED, Status.UNDELIVERED}:
                continue
            try:
                hop = self.attempt(channel)
            except RetryLater:
                self.outcome.end(Status.QUEUED.value)
                raise
            self.outcome.hops[channel] = hop
            done_now = hop["status"] in {Status.SENT, Status.DELIVERED}
            last = i == len(channels) - 1
            if done_now or last:  # the hop and the final status in one write (the claim ends)
                self.outcome.end(hop["status"] if done_now else Status.FAILED.value)
            else:
                self.outcome.status = Status.SENDING.value
            logger.info(
                "notification hop",
                extra={
                    "notification_id": self.id,
                    "channel": channel,
                    "status": hop["status"],
                    "code": hop.get("error"),
                },
            )
            if done_now or last:
                return self.outcome.status
        self.outcome.end(Status.FAILED.value)
        return Status.FAILED.value


def deliver_all(tenant_id: str, notifications: list[dict[str, Any]]) -> tuple[list[str], RetryLater | None]:
    """Delivers claimed notifications of one tenant as one round (see the module docstring).

    Returns each one's status (`queued` for those to retry) and the last transient failure, if any:
    the others are delivered whatever one of them meets.
    """
    reads = Reads(tenant_id, notifications)
    writes = Writes(tenant_id)
    quota = Quota(writes.repo, Counter(c for n in notifications for c in n["channels"]))
    statuses: list[str] = []
    retry: RetryLater | None = None
    try:
        for notification in notifications:
            delivery = Delivery(tenant_id, notification, reads, writes, quota)
            try:
                statuses.append(delivery.run())
            except RetryLater as exc:
                statuses.append(Status.QUEUED.value)
                retry = exc
            if delivery.called_provider:
                writes.flush()
    except Exception:
        writes.flush()  # what was done is recorded (a process that dies records nothing: leases end)
        quota.settle()
        raise
    writes.flush()
    quota.settle()
    return statuses, retry


def deliver(tenant_id: str, notification_id: str) -> str | None:
    """Delivers a queued notification (None when it is not queued, or another worker has it)."""
    claimed = repo.for_tenant(tenant_id).claim(notification_id, LEASE_SECONDS)
    if claimed is None:
        return None
    statuses, retry = deliver_all(tenant_id, [claimed])
    if retry is not None:
        raise retry
    return statuses[0]

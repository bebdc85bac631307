"""Delivering one notification: its channels in order, each hop recorded, fallback on permanent failure.

    claim (queued -> sending, with a lease) -> quiet hours? -> for each channel not yet final:
        channel off / opted out / limit reached / no address -> `skipped`, next channel
        provider: sent -> done; permanent failure -> `failed` hop, next channel;
                  transient failure -> back to `queued`, RetryLater (SQS retries with backoff, then DLQ)

A notification is claimed with a conditional write, so two workers never deliver it together; a
worker that dies mid-way leaves a lease that expires, and the next delivery resumes after the hops
already final. The inbox entry is written once (conditional), whatever the retries.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, time, timedelta
from typing import Any

from keel.core import clock
from keel.core.errors import KeelError
from keel.core.observability import logger
from keel.notifications import providers, render, repo, secrets
from keel.notifications.models import MANDATORY, RANK, Category, Channel, Status

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


class Delivery:
    def __init__(self, tenant_id: str, notification: dict[str, Any]) -> None:
        from keel.tenants import repo as tenants
        from keel.users import repo as users

        self.tenant_id = tenant_id
        self.repo = repo.for_tenant(tenant_id)
        self.n = notification
        self.id = notification["notification_id"]
        user_id = notification.get("user_id")
        user_key = users.for_tenant(tenant_id).key(user_id) if user_id else None
        tenant_key = tenants.for_tenant(tenant_id).key
        found, prefs, self.configs = self.repo.delivery_reads(
            [k for k in (user_key, tenant_key) if k], user_id, list(notification["channels"])
        )
        raw_user = found.get(user_key) if user_key else None
        self.user = users.from_item(raw_user) if raw_user and raw_user.get("entity") == "user" else None
        self.prefs = prefs if self.user else {}
        tenant = tenants.from_item(found[tenant_key]) if tenant_key in found else None
        self.context = {
            "user": render.user_context(self.user, notification.get("email"), notification.get("phone")),
            "tenant": {
                "tenant_id": tenant_id,
                "name": tenant.name if tenant else "",
                "plan": tenant.plan if tenant else "",
            },
            "event": notification.get("event") or {},
            "data": (notification.get("content") or {}).get("data") or {},
        }

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
            return n.get("email") or (user.notification_email or user.email if user else None)
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
            template = self.repo.template_for(content["template"], channel, locale)
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
        if channel == Channel.EMAIL and isinstance(to, str) and self.repo.suppressed(to):
            return self._hop(
                channel, Status.SKIPPED, to, error="suppressed", advice="The address bounced before."
            )
        rendered = self._content(channel)
        if isinstance(rendered, dict):
            return self._hop(channel, Status.FAILED, error=rendered["error"], advice=rendered["advice"])
        subject, text, html = rendered
        limit = self.repo.take_quota(
            channel,
            daily_limit=config.get("daily_limit"),
            cost=float(config.get("cost_per_message") or 0),
            cost_limit=config.get("daily_cost_limit"),
            rate=config.get("rate_per_minute"),
        )
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
            from keel.store.change import Tx

            tx = Tx()
            self.repo.add_inbox(
                tx,
                str(to),
                {
                    "notification_id": self.id,
                    "subject": subject,
                    "body": text,
                    "category": self.n.get("category"),
                    "created_at": self.n["created_at"],
                },
            )
            with suppress(KeelError):  # already in the inbox (a retry after a crash): delivered once
                tx.commit()
            return self._hop(channel, Status.DELIVERED, to)
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
            repo.point(provider, outcome.provider_id, self.tenant_id, self.id, channel)
        return self._hop(channel, Status.SENT, shown, provider_id=outcome.provider_id)

    # the whole notification -----------------------------------------------------------------

    def run(self) -> str:
        category = self.n.get("category")
        if self.user and category not in MANDATORY and not self.n.get("urgent"):
            ends = quiet_until(self.prefs, clock.now())
            if ends is not None:
                self.repo.release(self.id, Status.DEFERRED.value, due=clock.iso(ends))
                return Status.DEFERRED.value
        hops = self.n.get("hops") or {}
        channels = list(self.n["channels"])
        for i, channel in enumerate(channels):
            done = hops.get(channel)
            if done and done["status"] in {Status.SENT, Status.DELIVERED}:
                self.repo.release(self.id, done["status"])
                return str(done["status"])
            if done and done["status"] in {Status.FAILED, Status.SKIPPED, Status.BOUNCED, Status.UNDELIVERED}:
                continue
            try:
                hop = self.attempt(channel)
            except RetryLater:
                self.repo.release(self.id, Status.QUEUED.value)
                raise
            done_now = hop["status"] in {Status.SENT, Status.DELIVERED}
            last = i == len(channels) - 1
            if done_now or last:  # the hop and the final status in one write (the claim ends)
                final = hop["status"] if done_now else Status.FAILED.value
                self.repo.set_hop(self.id, channel, hop, status=final, final=True)
            else:
                self.repo.set_hop(self.id, channel, hop, status=Status.SENDING.value)
            logger.info(
                "notification hop",
                extra={
                    "notification_id": self.id,
                    "channel": channel,
                    "status": hop["status"],
                    "code": hop.get("error"),
                },
            )
            if done_now:
                return str(hop["status"])
            if last:
                return Status.FAILED.value
        self.repo.release(self.id, Status.FAILED.value)
        return Status.FAILED.value


def deliver(tenant_id: str, notification_id: str) -> str | None:
    """Delivers a queued notification (None when it is not queued, or another worker has it)."""
    claimed = repo.for_tenant(tenant_id).claim(notification_id, LEASE_SECONDS)
    if claimed is None:
        return None
    return Delivery(tenant_id, claimed).run()

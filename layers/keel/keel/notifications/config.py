"""Settings of a tenant's notifications: channels, templates and rules (notifications:manage)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from keel.core import clock, ids
from keel.core.errors import ErrorCode, KeelError, invalid
from keel.core.pagination import Page
from keel.core.permissions import Permission
from keel.core.principal import Principal
from keel.notifications import providers, render, repo, rules, secrets, system_mail
from keel.notifications.models import (
    Channel,
    ChannelOut,
    ChannelStatus,
    ChannelTest,
    ChannelUpdate,
    DryRun,
    DryRunRecipient,
    Preview,
    PreviewRequest,
    ProviderAnswer,
    RuleIn,
    RuleOut,
    RuleTest,
    RuleUpdate,
    SmsInfo,
    TemplateIn,
    TemplateOut,
    TemplateUpdate,
)
from keel.store.change import Change

CREDENTIAL_FIELDS = {
    Channel.SMS: {"account_sid", "auth_token"},
    Channel.WHATSAPP: {"account_sid", "auth_token"},
}
SETTING_FIELDS = {
    Channel.EMAIL: {"from_address", "reply_to"},
    Channel.SMS: {"from_number"},
    Channel.WHATSAPP: {"from_number"},
    Channel.PUSH: {"platform_application_arn"},
    Channel.IN_APP: set(),
}


# channels ------------------------------------------------------------------------------------


def _channel(store: repo.NotifyRepo, channel: Channel) -> ChannelOut:
    from keel.notifications.delivery import DEFAULT_ON

    found = store.channel(channel)
    if found is None:
        return ChannelOut(channel=channel, enabled=channel in DEFAULT_ON)
    return ChannelOut.model_validate(found)


def list_channels(principal: Principal, tenant_id: str | None) -> Page[ChannelOut]:
    principal.require(Permission.NOTIFICATIONS_READ)
    store = repo.for_tenant(principal.tenant_scope(tenant_id))
    return Page[ChannelOut](items=[_channel(store, c) for c in Channel])


CLEARABLE = {"daily_limit", "rate_per_minute", "daily_cost_limit"}  # null lifts the limit


def update_channel(principal: Principal, tenant_id: str | None, body: ChannelUpdate) -> ChannelOut:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    channel = body.channel
    if body.settings is not None:
        unknown = set(body.settings) - SETTING_FIELDS[channel]
        if unknown:
            raise invalid("settings", f"Unknown {channel} setting(s): {', '.join(sorted(unknown))}")
        if "from_number" in body.settings:
            from keel.security.sms import normalise

            body.settings["from_number"] = normalise(body.settings["from_number"], "settings.from_number")
    if body.credentials is not None:
        allowed = CREDENTIAL_FIELDS.get(channel)
        if not allowed:
            raise invalid("credentials", f"The {channel} channel takes no credentials")
        if set(body.credentials) != allowed:
            raise invalid("credentials", "Give exactly: " + ", ".join(sorted(allowed)))
    current = _channel(store, channel)
    changes = body.model_dump(exclude_unset=True, exclude={"credentials", "channel"}, mode="json")
    changes = {k: v for k, v in changes.items() if v is not None or k in CLEARABLE}  # null: unchanged
    merged = current.model_copy(
        update={
            **changes,
            "updated_at": clock.iso(),
            "credentials_set": current.credentials_set or bool(body.credentials),
        }
    )
    if body.credentials:
        secrets.store(scoped, channel, body.credentials)  # first: the table never claims a secret it lacks
    change = Change(principal)
    store.put_channel(change.tx, merged.model_dump(mode="json"))
    change.audit(
        "notification.channel_update",
        tenant_id=scoped,
        target_type="notification_channel",
        target_id=channel,
        details={"changed": sorted(changes), "credentials_changed": bool(body.credentials)},
    )
    change.commit()
    return merged


def test_channel(principal: Principal, tenant_id: str | None, body: ChannelTest) -> ProviderAnswer:
    """Sends a real test message now and reports the provider's answer (with advice)."""
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    config = _channel(store, body.channel)
    text = "Keel test message: this channel works."
    if body.channel in {Channel.SMS, Channel.WHATSAPP}:
        from keel.security.sms import normalise

        to = normalise(body.to, "to")
        if not config.credentials_set or not config.settings.get("from_number"):
            raise KeelError(
                ErrorCode.SAAS_034, f"Set the {body.channel} channel's credentials and from number"
            )
        outcome = providers.send_twilio(
            secrets.read(scoped, body.channel),
            config.settings["from_number"],
            to,
            text,
            whatsapp=body.channel == Channel.WHATSAPP,
            callback=None,
        )
    elif body.channel == Channel.EMAIL:
        from keel.core.email import normalise as email

        try:
            to = email(body.to)
        except ValueError as exc:
            raise invalid("to", "Not an e-mail address") from exc
        outcome = providers.send_email(
            to, "Keel test message", text, None, config.settings.get("from_address")
        )
    elif body.channel == Channel.PUSH:
        outcome = providers.send_push(
            config.settings.get("platform_application_arn"), [body.to], "Keel", text
        )
    else:
        raise invalid("channel", "In-app messages have no provider to test")
    return ProviderAnswer(
        channel=body.channel,
        ok=outcome.ok,
        status=outcome.status,
        provider_id=outcome.provider_id,
        provider_code=outcome.code,
        advice=outcome.advice or ("The provider accepted the message." if outcome.ok else None),
    )


def channel_statuses(
    principal: Principal, tenant_id: str | None, channel: Channel | None
) -> Page[ChannelStatus]:
    principal.require(Permission.NOTIFICATIONS_READ)
    scoped = principal.tenant_scope(tenant_id)
    return Page[ChannelStatus](items=[_status(scoped, c) for c in ([channel] if channel else list(Channel))])


def _status(scoped: str, channel: Channel) -> ChannelStatus:
    store = repo.for_tenant(scoped)
    config = _channel(store, channel)
    if channel in {Channel.SMS, Channel.WHATSAPP}:
        reachable: bool | None = config.credentials_set and providers.twilio_reachable(
            secrets.read(scoped, channel)
        )
    elif channel == Channel.EMAIL:
        reachable = providers.ses_reachable()
    elif channel == Channel.PUSH:
        reachable = providers.push_reachable(config.settings.get("platform_application_arn"))
    else:
        reachable = True
    since = ids.ulid_bound(int((clock.now() - timedelta(days=1)).timestamp() * 1000), upper=False)
    counts: dict[str, int] = {}
    for item in store.recent("ntf_" + since):
        hop = (item.get("hops") or {}).get(channel)
        if hop:
            counts[hop["status"]] = counts.get(hop["status"], 0) + 1
    tried = sum(v for k, v in counts.items() if k != "skipped")
    failed = sum(counts.get(k, 0) for k in ("failed", "bounced", "undelivered"))
    return ChannelStatus(
        channel=channel,
        enabled=config.enabled,
        credentials_set=config.credentials_set,
        provider_reachable=reachable,
        recent=counts,
        failure_rate=round(failed / tried, 3) if tried else None,
        sent_today=store.sent_today(channel),
        daily_limit=config.daily_limit,
    )


# templates -----------------------------------------------------------------------------------


def _check_template(name: str | None, channel: str, subject: str | None, body: str) -> None:
    if name and system_mail.check(name, channel, subject, body):  # system.*: its own variables
        return
    render.check(subject, field="subject")
    render.check(body, field="body", html=channel == Channel.EMAIL)


def list_templates(
    principal: Principal, tenant_id: str | None, limit: int, cursor: str | None
) -> Page[TemplateOut]:
    principal.require(Permission.NOTIFICATIONS_READ)
    items, next_cursor = repo.for_tenant(principal.tenant_scope(tenant_id)).templates(limit, cursor)
    return Page[TemplateOut](items=[TemplateOut.model_validate(i) for i in items], next_cursor=next_cursor)


def create_template(principal: Principal, tenant_id: str | None, body: TemplateIn) -> TemplateOut:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    _check_template(body.name, body.channel, body.subject, body.body)
    now = clock.iso()
    template = TemplateOut(**body.model_dump(), template_id=ids.new_id("tpl"), created_at=now, updated_at=now)
    change = Change(principal)
    repo.for_tenant(scoped).add_template(change.tx, template.model_dump(mode="json"))
    change.audit(
        "notification.template_create",
        tenant_id=scoped,
        target_type="notification_template",
        target_id=template.template_id,
        details={"name": body.name, "channel": body.channel, "locale": body.locale},
    )
    change.commit()
    return template


def update_template(
    principal: Principal, tenant_id: str | None, template_id: str, body: TemplateUpdate
) -> TemplateOut:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    current = TemplateOut.model_validate(store.template(template_id))
    changes = body.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if not changes:
        return current
    merged = current.model_copy(update={**changes, "updated_at": clock.iso()})
    _check_template(merged.name, merged.channel, merged.subject, merged.body)
    change = Change(principal)
    store.update_template(
        change.tx, current.model_dump(mode="json"), {**changes, "updated_at": merged.updated_at}
    )
    change.audit(
        "notification.template_update",
        tenant_id=scoped,
        target_type="notification_template",
        target_id=template_id,
        details={"changed": sorted(changes)},
    )
    change.commit()
    return merged


def delete_template(principal: Principal, tenant_id: str | None, template_id: str) -> None:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    current = store.template(template_id)
    change = Change(principal)
    store.delete_template(change.tx, current)
    change.audit(
        "notification.template_delete",
        tenant_id=scoped,
        target_type="notification_template",
        target_id=template_id,
        details={"name": current["name"], "channel": current["channel"]},
    )
    change.commit()


def _preview(
    channel: str, subject: str | None, body: str, data: dict[str, Any], values: dict[str, Any] | None = None
) -> Preview:
    context = {
        k: {**v, **(data.get(k) or {})} if isinstance(v, dict) else v for k, v in render.SAMPLE.items()
    } | (values or {})
    html = channel == Channel.EMAIL
    title = render.render(subject, context, field="subject") if subject else None
    text = render.render(body, context, field="body", html=html)
    sms = (
        SmsInfo.model_validate(render.sms_info(text)) if channel in {Channel.SMS, Channel.WHATSAPP} else None
    )
    return Preview(channel=Channel(channel), subject=title, body=text, sms=sms)


def preview_template(principal: Principal, tenant_id: str | None, body: PreviewRequest) -> Preview:
    principal.require(Permission.NOTIFICATIONS_READ)
    scoped = principal.tenant_scope(tenant_id)
    if body.template_id:
        saved = repo.for_tenant(scoped).template(body.template_id)
        channel, subject, text = saved["channel"], saved.get("subject"), saved["body"]
    else:
        assert body.channel is not None
        assert body.body is not None
        channel, subject, text = body.channel, body.subject, body.body
        _check_template(None, channel, subject, text)
        return _preview(channel, subject, text, body.data)
    return _preview(channel, subject, text, body.data, system_mail.sample(saved["name"]))


# rules ---------------------------------------------------------------------------------------


def _check_rule(scoped: str, rule: dict[str, Any]) -> None:
    from keel.security.sms import normalise

    if rule["trigger"] not in rules.TRIGGERS:
        raise invalid(
            "trigger", f"Unknown trigger {rule['trigger']!r}: one of " + ", ".join(sorted(rules.TRIGGERS))
        )
    have = repo.for_tenant(scoped).template_names()
    missing = [c for c in rule["channels"] if (rule["template"], c) not in have]
    if missing:
        raise invalid("template", f"No template {rule['template']!r} for channel(s) " + ", ".join(missing))
    recipients = rule.get("recipients") or {}
    for i, phone in enumerate(recipients.get("phones") or []):
        recipients["phones"][i] = normalise(phone, f"recipients.phones.{i}")
    if recipients.get("roles"):
        from keel.roles.service import find

        for i, role in enumerate(recipients["roles"]):
            if find(scoped, role) is None:
                raise invalid(f"recipients.roles.{i}", f"Unknown role {role!r}")


def list_rules(principal: Principal, tenant_id: str | None) -> Page[RuleOut]:
    principal.require(Permission.NOTIFICATIONS_READ)
    items = repo.for_tenant(principal.tenant_scope(tenant_id)).rules()
    return Page[RuleOut](items=[RuleOut.model_validate(i) for i in items])


def create_rule(principal: Principal, tenant_id: str | None, body: RuleIn) -> RuleOut:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    data = body.model_dump(mode="json")
    _check_rule(scoped, data)
    now = clock.iso()
    rule = RuleOut(**data, rule_id=ids.new_id("nrl"), created_at=now, updated_at=now)
    change = Change(principal)
    repo.for_tenant(scoped).add_rule(change.tx, rule.model_dump(mode="json"))
    change.audit(
        "notification.rule_create",
        tenant_id=scoped,
        target_type="notification_rule",
        target_id=rule.rule_id,
        details={"trigger": rule.trigger, "channels": data["channels"], "template": rule.template},
    )
    change.commit()
    return rule


def update_rule(principal: Principal, tenant_id: str | None, rule_id: str, body: RuleUpdate) -> RuleOut:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    current = RuleOut.model_validate(store.rule(rule_id))
    changes = body.model_dump(exclude_unset=True, exclude_none=True, mode="json")
    if not changes:
        return current
    merged = {**current.model_dump(mode="json"), **changes, "updated_at": clock.iso()}
    _check_rule(scoped, merged)
    changes = {k: merged[k] for k in changes} | {"updated_at": merged["updated_at"]}
    change = Change(principal)
    store.update_rule(change.tx, rule_id, changes)
    change.audit(
        "notification.rule_update",
        tenant_id=scoped,
        target_type="notification_rule",
        target_id=rule_id,
        details={"changed": sorted(set(changes) - {"updated_at"})},
    )
    change.commit()
    return RuleOut.model_validate(merged)


def delete_rule(principal: Principal, tenant_id: str | None, rule_id: str) -> None:
    principal.require(Permission.NOTIFICATIONS_MANAGE)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    store.rule(rule_id)
    change = Change(principal)
    store.delete_rule(change.tx, rule_id)
    change.audit(
        "notification.rule_delete", tenant_id=scoped, target_type="notification_rule", target_id=rule_id
    )
    change.commit()


def test_rule(principal: Principal, tenant_id: str | None, rule_id: str, body: RuleTest) -> DryRun:
    """Who would receive what for a sample event; nothing is sent or written."""
    from pydantic import ValidationError

    from keel.notifications.delivery import opted_out
    from keel.store import event_types

    principal.require(Permission.NOTIFICATIONS_READ)
    scoped = principal.tenant_scope(tenant_id)
    store = repo.for_tenant(scoped)
    rule = store.rule(rule_id)
    data = {"tenant_id": scoped, **body.data}
    try:
        event_types.REGISTRY[rule["trigger"]].payload.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = "data." + ".".join(str(p) for p in first["loc"])
        raise invalid(field, f"Not a {rule['trigger']} event: {first['msg']}") from exc
    ok, reason = rules.matches(rule, {"type": rule["trigger"], "tenant_id": scoped, "data": data})
    if not rule.get("active", True):
        ok, reason = False, "the rule is not active"
    if not ok:
        return DryRun(matches=False, reason=reason)
    from keel.users import repo as users

    out = []
    for recipient in rules.recipients(rule, scoped, data):
        user = users.for_tenant(scoped).get(recipient["user_id"]) if recipient.get("user_id") else None
        prefs = store.preferences(user.user_id) if user else {}
        channels = [c for c in rule["channels"] if not opted_out(prefs, rule.get("category", "alerts"), c)]
        preview = None
        if channels:
            template = store.template_for(rule["template"], channels[0], prefs.get("locale") or "en")
            if template:
                context = {
                    "user": render.user_context(user, recipient.get("email"), recipient.get("phone")),
                    "tenant": render.SAMPLE["tenant"] | {"tenant_id": scoped},
                    "event": data,
                    "data": {},
                }
                html = channels[0] == Channel.EMAIL
                text = render.render(template["body"], context, html=html)
                title = (
                    render.render(template["subject"], context, field="subject")
                    if template.get("subject")
                    else None
                )
                sms = render.sms_info(text) if channels[0] in {Channel.SMS, Channel.WHATSAPP} else None
                preview = Preview(
                    channel=Channel(channels[0]),
                    subject=title,
                    body=text,
                    sms=SmsInfo.model_validate(sms) if sms else None,
                )
        shown = user.email if user else recipient.get("email") or recipient.get("phone") or ""
        out.append(
            DryRunRecipient(
                recipient=shown,
                user_id=recipient.get("user_id"),
                channels=[Channel(c) for c in channels],
                preview=preview,
            )
        )
    return DryRun(matches=True, recipients=out)

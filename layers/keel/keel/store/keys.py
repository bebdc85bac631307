"""Every key of the single table, built in one place.

Base table: PK / SK. Overloaded GSIs: GSI1 (GSI1PK, GSI1SK), GSI2, GSI3. `expires_at` is the TTL
attribute (epoch seconds); DynamoDB reaps lazily, so readers check it too.
Tenant-owned items live under `T#<tenant_id>`; nothing of one tenant shares a partition with
another's.

Every item that holds one user's data sits in the tenant partition with an SK that starts with
`USER#<user_id>` (the user item is exactly that; its 2FA, password history, link pointers,
preferences... are `USER#<user_id>#<KIND>...`), so exporting or erasing a user is one query.
The exceptions, each findable from the user: sessions (GSI1 `user_sessions_index_pk`), the e-mail
reservation (`email_pk`), link tokens (named by the `USER#..#LINK#..` pointers) and audit
records (GSI1/GSI2 `audit_user_index_pk`), the user-search entries (`user_search_pk`, keys derived
from the user's e-mail and name), the invitation that created the user (`invitation_sk` of
`invitation_id_for(user_id)`) and a due temporary suspension (`SUSPENSIONS_DUE_PK`).
"""

from __future__ import annotations


def tenant_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}"


# tenants ------------------------------------------------------------------------------------
TENANT_SK = "TENANT"
TENANTS_INDEX_PK = "TENANTS"  # GSI1: every tenant, newest last (platform listing)


def created_sk(created_at: str, item_id: str) -> str:
    """Index sort key `<created>#<id>`: by creation time, unique."""
    return f"{created_at}#{item_id}"


# users --------------------------------------------------------------------------------------


def user_sk(user_id: str) -> str:
    return f"USER#{user_id}"


def user_part_sk(user_id: str, kind: str, *rest: str) -> str:
    """An item that belongs to one user: `USER#<id>#<KIND>[#...]` (see the module docstring)."""
    return "#".join((user_sk(user_id), kind.upper(), *rest))


def email_pk(email: str) -> str:
    """Global login-name reservation: one item per e-mail address (case-folded)."""
    return f"EMAIL#{email.strip().lower()}"


EMAIL_SK = "EMAIL"


def users_index_pk(tenant_id: str) -> str:
    """GSI1: a tenant's users by creation time."""
    return f"T#{tenant_id}#USERS"


# sessions -----------------------------------------------------------------------------------


def session_pk(token_hash: str) -> str:
    return f"SESSION#{token_hash}"


SESSION_SK = "SESSION"


def user_sessions_index_pk(tenant_id: str, user_id: str) -> str:
    """GSI1: a user's sessions (to end them all on suspension, password or 2FA change)."""
    return f"T#{tenant_id}#USER#{user_id}#SESSIONS"


def tenant_sessions_index_pk(tenant_id: str) -> str:
    """GSI2: a tenant's sessions (admin listing)."""
    return f"T#{tenant_id}#SESSIONS"


# one-time tokens (activation, reset, invitation links) --------------------------------------


def link_token_pk(token_hash: str) -> str:
    return f"LINK#{token_hash}"


LINK_SK = "LINK"


def user_link_sk(user_id: str, purpose: str) -> str:
    """The user's current link of a purpose; issuing a new one replaces (and so revokes) it."""
    return user_part_sk(user_id, "LINK", purpose)


# audit ----------------------------------------------------------------------------------------


def audit_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#AUDIT"


def audit_user_index_pk(tenant_id: str, user_id: str) -> str:
    """GSI1: one user's audited actions (as actor or as the user acted as)."""
    return f"T#{tenant_id}#AUDIT#USER#{user_id}"


# outbox -------------------------------------------------------------------------------------


def outbox_pk(event_id: str) -> str:
    return f"OUTBOX#{event_id}"


OUTBOX_SK = "EVENT"
OUTBOX_PENDING_INDEX_PK = "OUTBOX#PENDING"  # GSI1, sparse: removed once published

# consumers' idempotency records (Powertools Idempotency) ------------------------------------


def idempotency_pk(consumer: str) -> str:
    return f"IDEMPOTENCY#{consumer}"


# roles ----------------------------------------------------------------------------------------


def role_sk(role: str) -> str:
    """A tenant's custom role, under the tenant's partition."""
    return f"ROLE#{role}"


# identity and security (issue 3) -------------------------------------------------------------
SECURITY_SETTINGS_SK = "SETTINGS#security"  # under tenant_pk: password, 2FA, session, IP, impersonation


def lockout_pk(email_digest: str) -> str:
    """Failed-login counter of a login name (exists for unknown names too, so both look alike)."""
    return f"LOCKOUT#{email_digest}"


LOCKOUT_SK = "LOCKOUT"


def ip_failures_pk(ip: str) -> str:
    """Failed logins from one IP across the platform (throttle), one item per window."""
    return f"IPFAIL#{ip}"


def ip_failures_window_sk(window: int) -> str:
    """Under ip_failures_pk: one counter per throttle window."""
    return f"W#{window}"


def tenant_ip_failures_sk(ip: str) -> str:
    """Under tenant_pk: failed logins from one IP against the tenant's accounts (detector)."""
    return f"IPFAIL#{ip}"


def challenge_pk(token_hash: str) -> str:
    """A pending 2FA login challenge, found by its token's hash."""
    return f"CHALLENGE#{token_hash}"


CHALLENGE_SK = "CHALLENGE"


def mfa_sk(user_id: str, method: str) -> str:
    return user_part_sk(user_id, "MFA", method)


def mfa_pending_sk(user_id: str, method: str) -> str:
    return user_part_sk(user_id, "MFA", "PENDING", method)


def backup_codes_sk(user_id: str) -> str:
    return user_part_sk(user_id, "MFA", "BACKUP")


def password_history_sk(user_id: str) -> str:
    return user_part_sk(user_id, "PWHIST")


def known_places_sk(user_id: str) -> str:
    """IPs and countries a user has logged in from (new-location detection)."""
    return user_part_sk(user_id, "PLACES")


def suspicious_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#SUSPICIOUS"


def suspicious_user_index_pk(tenant_id: str, user_id: str) -> str:
    """GSI1: the findings about one user (their IPs and places are personal data to erase)."""
    return f"T#{tenant_id}#SUSPICIOUS#USER#{user_id}"


def impersonation_sk(impersonation_id: str) -> str:
    return f"IMPERSONATION#{impersonation_id}"


# users, roles, invitations, data requests (issue 4) -----------------------------------------
# User item indexes (one Query per page for every list_users filter; see README "Users: access patterns"):
#   GSI1 users_index_pk(t)            / "<created>#<user>"            all users by registration
#   GSI2 users_role_index_pk(t, role) / "<status>#<created>#<user>"   by role (+ status, + date range)
#   GSI3 users_status_index_pk(t, s)  / "<created>#<user>"            by status (+ date range)


def users_role_index_pk(tenant_id: str, role: str) -> str:
    return f"T#{tenant_id}#USERS#ROLE#{role}"


def users_status_index_pk(tenant_id: str, status: str) -> str:
    return f"T#{tenant_id}#USERS#STATUS#{status}"


def user_search_pk(tenant_id: str) -> str:
    """Search entries: SK `E#<email>#<user>` and `N#<name suffix>#<user>`, lower-cased (prefix search)."""
    return f"T#{tenant_id}#USERSEARCH"


def users_role_index_sk(status: str, created_at: str, user_id: str) -> str:
    """GSI2 sort key: `<status>#<created>#<user>` (status, then registration range)."""
    return f"{status}#{created_sk(created_at, user_id)}"


def users_role_status_prefix(status: str) -> str:
    return f"{status}#"


def user_search_term_email(email: str) -> str:
    """Search-entry prefix of an e-mail (or of the start of one): `E#<lower>`."""
    return f"E#{email.strip().lower()}"


def user_search_term_name(name: str) -> str:
    """Search-entry prefix of a name (from any word on): `N#<lower>`."""
    return f"N#{name.strip().lower()}"


def user_search_sk(term: str, user_id: str) -> str:
    return f"{term}#{user_id}"


def invitation_sk(invitation_id: str) -> str:
    return f"INVITE#{invitation_id}"


INVITATION_SK_PREFIX = "INVITE#"


def invitation_email_sk(email: str) -> str:
    """One pending invitation per address per tenant (a guard item)."""
    return f"INVITE_EMAIL#{email.strip().lower()}"


def invitation_id_for(user_id: str) -> str:
    """An invitation and the user it creates share their ULID: `inv_<ulid>` <-> `usr_<ulid>`."""
    return "inv_" + user_id.split("_", 1)[1]


def user_id_for(invitation_id: str) -> str:
    return "usr_" + invitation_id.split("_", 1)[1]


SUSPENSIONS_DUE_PK = "SUSPENSIONS#DUE"  # SK "<until>#<tenant>#<user>": temporary suspensions to lift


def suspension_due_sk(until: str, tenant_id: str, user_id: str) -> str:
    return f"{until}#{tenant_id}#{user_id}"


def deletions_pk(tenant_id: str) -> str:
    """The deletion log (SK `LOG#<ulid>`) and deletions in progress (SK `PROGRESS#<user>`)."""
    return f"T#{tenant_id}#DELETIONS"


DELETION_LOG_SK_PREFIX = "LOG#"


def deletion_log_sk(log_id: str) -> str:
    return f"{DELETION_LOG_SK_PREFIX}{log_id}"


def deletion_progress_sk(user_id: str) -> str:
    return f"PROGRESS#{user_id}"


# plans (platform-wide) ----------------------------------------------------------------------
PLANS_PK = "PLANS"


def plan_sk(plan_id: str) -> str:
    return f"PLAN#{plan_id}"


# notifications (issue 10) -------------------------------------------------------------------
# Under tenant_pk: channel settings, templates, rules, bulk sends, notifications, day counters.
# Per user (USER#<u>#...): preferences, inbox entries and the unread counter.


def notify_channel_sk(channel: str) -> str:
    return f"NOTIFY#CHANNEL#{channel}"


NOTIFY_CHANNEL_SK_PREFIX = "NOTIFY#CHANNEL#"


def notify_template_sk(name: str, channel: str, locale: str) -> str:
    """A template is unique per (name, channel, locale); GSI1 finds it by id."""
    return f"NOTIFY#TEMPLATE#{name}#{channel}#{locale}"


NOTIFY_TEMPLATE_SK_PREFIX = "NOTIFY#TEMPLATE#"


def notify_template_index_pk(tenant_id: str, template_id: str) -> str:
    return f"T#{tenant_id}#NOTIFY#TEMPLATE#{template_id}"


def notify_rule_sk(rule_id: str) -> str:
    return f"NOTIFY#RULE#{rule_id}"


NOTIFY_RULE_SK_PREFIX = "NOTIFY#RULE#"


def notify_send_sk(send_id: str) -> str:
    """A bulk send (now or scheduled)."""
    return f"NOTIFY#SEND#{send_id}"


NOTIFY_SEND_SK_PREFIX = "NOTIFY#SEND#"


def notify_once_sk(source: str, recipient: str) -> str:
    """Marker: `source` (a bulk send, or an event and rule) reached `recipient`; written once."""
    return f"NOTIFY#ONCE#{source}#{recipient}"


def notification_sk(notification_id: str) -> str:
    return f"NOTIFY#MSG#{notification_id}"


def notify_history_index_pk(tenant_id: str) -> str:
    """GSI1: a tenant's notifications, newest first by id."""
    return f"T#{tenant_id}#NOTIFY#HISTORY"


def notify_counter_sk(channel: str, window: str) -> str:
    """Sends and cost of a channel in a day (`2026-11-02`) or a minute (`2026-11-02T10:31`)."""
    return f"NOTIFY#COUNT#{channel}#{window}"


def notify_suppressed_sk(address: str) -> str:
    """An address that bounced or complained: never mailed again by this tenant."""
    return f"NOTIFY#SUPPRESSED#{address.strip().lower()}"


NOTIFY_DUE_INDEX_PK = "NOTIFY#DUE"  # GSI2: scheduled sends and deferred notifications, `<at>#<t>#<id>`


def notify_due_sk(at: str, tenant_id: str, item_id: str) -> str:
    return f"{at}#{tenant_id}#{item_id}"


def provider_message_pk(provider: str, message_id: str) -> str:
    """A provider's message id (Twilio sid, SES id) -> the notification it belongs to."""
    return f"PROVIDERMSG#{provider}#{message_id}"


PROVIDER_MESSAGE_SK = "MSG"


def notify_prefs_sk(user_id: str) -> str:
    return user_part_sk(user_id, "NOTIFYPREFS")


def inbox_sk(user_id: str, notification_id: str) -> str:
    return user_part_sk(user_id, "INBOX", notification_id)


def inbox_prefix(user_id: str) -> str:
    return user_part_sk(user_id, "INBOX") + "#"


def inbox_unread_sk(user_id: str) -> str:
    return user_part_sk(user_id, "INBOXUNREAD")


# checkout (issue 13) ------------------------------------------------------------------------
# A workshop event and its two tier counters share the tenant partition and one SK prefix, so the
# public availability of a city is one Query: `EVENT#<city>#EVENT`, `EVENT#<city>#INV#<tier>`.
# Holds `HOLD#<hold>` and registrations `REG#<city>#<registration>` (customer data) sit beside
# them; the inventory ledger of a city is its own partition, newest last.
EVENT_SK_PREFIX = "EVENT#"


def event_prefix(city_id: str) -> str:
    return f"{EVENT_SK_PREFIX}{city_id}#"


def event_sk(city_id: str) -> str:
    return f"{event_prefix(city_id)}EVENT"


def inventory_sk(city_id: str, tier: str) -> str:
    return f"{event_prefix(city_id)}INV#{tier}"


def hold_sk(hold_id: str) -> str:
    return f"HOLD#{hold_id}"


def registration_prefix(city_id: str) -> str:
    return f"REG#{city_id}#"


def registration_sk(city_id: str, registration_id: str) -> str:
    return f"{registration_prefix(city_id)}{registration_id}"


def ledger_pk(tenant_id: str, city_id: str) -> str:
    """A city's inventory ledger (SK: the entry's ULID, so in order of writing)."""
    return f"T#{tenant_id}#LEDGER#{city_id}"


HOLDS_DUE_INDEX_PK = "HOLDS#DUE"  # GSI1, sparse: open holds by expiry (the release schedule)


def hold_due_sk(hold_until: str, tenant_id: str, hold_id: str) -> str:
    return f"{hold_until}#{tenant_id}#{hold_id}"


def oversold_index_pk(tenant_id: str, city_id: str) -> str:
    """GSI1, sparse: a city's registrations sold past the actual limit."""
    return f"T#{tenant_id}#OVERSOLD#{city_id}"


# webhooks (issue 11) --------------------------------------------------------------------------
# endpoints: tenant_pk(t) / WHEP#<endpoint>; messages (one per event and endpoint, with their
# attempts): webhook_messages_pk(t) / <delivery id> (ULID-ordered: a time range is a key range);
# due retries: GSI1 WEBHOOK_DUE_INDEX_PK / "<due>#<tenant>#<delivery>" (sparse, swept every minute);
# rate counters: webhook_rate_pk(t, endpoint) / <epoch second>.
WEBHOOK_ENDPOINT_SK_PREFIX = "WHEP#"
WEBHOOK_DUE_INDEX_PK = "WHDUE"


def webhook_endpoint_sk(endpoint_id: str) -> str:
    return f"{WEBHOOK_ENDPOINT_SK_PREFIX}{endpoint_id}"


def webhook_messages_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#WHMSG"


def webhook_due_sk(due_at: str, tenant_id: str, delivery_id: str) -> str:
    return f"{due_at}#{tenant_id}#{delivery_id}"


def webhook_rate_pk(tenant_id: str, endpoint_id: str) -> str:
    """An endpoint's rate counters, SK `<epoch second>`: the sends taken in that second by every
    worker instance of both lanes (TTL `expires_at` a minute later)."""
    return f"T#{tenant_id}#WHRATE#{endpoint_id}"


# flags (platform-wide) ----------------------------------------------------------------------
FLAGS_PK = "FLAGS"  # SK `FLAG#<key>`: the flags; SK `VERSION`: the flag set's version
FLAGS_VERSION_SK = "VERSION"
FLAG_SK_PREFIX = "FLAG#"
FLAGS_DUE_PK = "FLAGS#DUE"  # GSI1: pending scheduled changes, SK `<run_at>#<change_id>`
FLAG_METRICS_PK = "FLAGS#METRICS"  # SK `<minute>`: one counter attribute per flag and variant


def flag_sk(key: str) -> str:
    return f"{FLAG_SK_PREFIX}{key}"


def flag_history_pk(key: str) -> str:
    """A flag's changes, SK `<change_id>` (a ULID: oldest first)."""
    return f"FLAG#{key}#HISTORY"


def flag_schedule_pk(key: str) -> str:
    """A flag's scheduled changes, SK `<change_id>`."""
    return f"FLAG#{key}#SCHEDULE"


def flag_due_sk(run_at: str, change_id: str) -> str:
    return f"{run_at}#{change_id}"


def flag_metric_attr(key: str, variant: str) -> str:
    return f"c#{key}#{variant}"


# payments, billing and subscriptions (issue 12) ----------------------------------------------
# Gateway events are the platform's (the tenant is known only once the body is read):
#   GWEVENT#<receipt> / RECEIPT          every delivery received, valid or not; GSI1 below
#   GWAPPLIED#<gateway>#<event id> / APPLIED   the claim that applies an event id once
# A tenant's billing items live in its partition (T#<t>): PAYMENT#, INVOICE#, REFUND#, BILLING#,
# SUBSCRIPTION#; GSI1 lists them newest first.
GATEWAY_EVENTS_INDEX_PK = "GWEVENTS"  # GSI1: every receipt, by time received


def gateway_event_pk(receipt_id: str) -> str:
    return f"GWEVENT#{receipt_id}"


GATEWAY_EVENT_SK = "RECEIPT"


def gateway_events_gateway_index_pk(gateway: str) -> str:
    """GSI2: one gateway's receipts by time received (its last event, its failure rate)."""
    return f"GWEVENTS#{gateway}"


def gateway_applied_pk(gateway: str, event_id: str) -> str:
    return f"GWAPPLIED#{gateway}#{event_id}"


GATEWAY_APPLIED_SK = "APPLIED"


def payment_sk(payment_id: str) -> str:
    return f"PAYMENT#{payment_id}"


def payments_index_pk(tenant_id: str) -> str:
    """GSI1: a tenant's payments by creation time."""
    return f"T#{tenant_id}#PAYMENTS"


def invoice_sk(invoice_id: str) -> str:
    return f"INVOICE#{invoice_id}"


def invoices_index_pk(tenant_id: str) -> str:
    return f"T#{tenant_id}#INVOICES"


def refund_sk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def billing_event_sk(at: str, event_id: str) -> str:
    return f"BILLING#{at}#{event_id}"


BILLING_EVENT_SK_PREFIX = "BILLING#"


def subscription_sk(subscription_id: str) -> str:
    return f"SUBSCRIPTION#{subscription_id}"


SUBSCRIPTION_SK_PREFIX = "SUBSCRIPTION#"
SUBSCRIPTIONS_INDEX_PK = "SUBSCRIPTIONS"  # GSI1: every subscription (platform listing, reconciliation)


def subscriptions_status_index_pk(status: str) -> str:
    """GSI2: subscriptions of one status, across tenants."""
    return f"SUBSCRIPTIONS#STATUS#{status}"


def gateway_subscription_pk(gateway: str, gateway_subscription_id: str) -> str:
    """Pointer from a gateway's subscription id to the tenant's subscription (webhooks name it)."""
    return f"GWSUB#{gateway}#{gateway_subscription_id}"


GATEWAY_SUBSCRIPTION_SK = "POINTER"


# checkout: buyer data retention (payments2)
EVENTS_BY_DATE_INDEX_PK = "CHECKOUT#EVENTS_BY_DATE"  # GSI1, sparse: events whose buyers' data is kept


def event_by_date_sk(date: str, tenant_id: str, city_id: str) -> str:
    return f"{date}#{tenant_id}#{city_id}"


# checkout: buyers by e-mail (checkout3) -----------------------------------------------------
# GSI2, sparse: every hold and registration that still carries a buyer's contact data, under the
# digest of the buyer's e-mail (case-folded), so a data request finds one person's with one Query.
# Written with the item, removed with the contact data (retention or a data request).


def buyer_email_index_pk(tenant_id: str, email: str) -> str:
    import hashlib

    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"T#{tenant_id}#BUYER#{digest}"


# privacy: payers by e-mail (erase) -----------------------------------------------------------
# GSI2, sparse: every payment and invoice that carries a customer's e-mail, under the digest of the
# e-mail (case-folded) within the tenant, so a data request finds one person's with one Query.
# Written with the item (payments repo), removed when the e-mail is erased. Items written before
# this index existed are not on it.


def payer_email_index_pk(tenant_id: str, email: str) -> str:
    import hashlib

    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    return f"T#{tenant_id}#PAYER#{digest}"

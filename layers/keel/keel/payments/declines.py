"""Decline codes: what each means and what to do next (guide 002's table, extended with Stripe's
documented codes). Nomba's response codes map onto the same advice where they mean the same."""

from __future__ import annotations

from keel.core.model import Model


class DeclineAdvice(Model):
    code: str
    meaning: str
    next_step: str


_RETRY_OTHER = "Ask the customer to use a different card"
_CALL_BANK = "Ask the customer to contact their bank"
_REENTER = "Ask the customer to re-enter the card details"

# code: (meaning, next step). The first four are guide 002's, word for word.
_TABLE: dict[str, tuple[str, str]] = {
    "insufficient_funds": ("Card has no funds", "Ask customer to use different card"),
    "card_declined": ("Generic decline", "Ask customer to contact bank"),
    "expired_card": ("Card expired", "Update card details"),
    "incorrect_cvc": ("Wrong CVC", "Re-enter card details"),
    "generic_decline": ("The bank declined without a reason", _CALL_BANK),
    "do_not_honor": ("The bank declined without a reason", _CALL_BANK),
    "do_not_try_again": ("The bank asks not to retry this card", _RETRY_OTHER),
    "call_issuer": ("The bank declined without a reason", _CALL_BANK),
    "card_not_supported": ("The card does not support this kind of purchase", _RETRY_OTHER),
    "card_velocity_exceeded": ("The card's balance or credit limit was exceeded", _CALL_BANK),
    "currency_not_supported": ("The card does not support this currency", _RETRY_OTHER),
    "duplicate_transaction": ("An identical payment was just made", "Check for a duplicate before retrying"),
    "fraudulent": ("The bank suspects fraud", "Do not retry; do not tell the customer it was flagged"),
    "lost_card": ("The card was reported lost", "Do not retry; ask for another payment method"),
    "stolen_card": ("The card was reported stolen", "Do not retry; ask for another payment method"),
    "pickup_card": ("The card cannot be used (may be lost or stolen)", _CALL_BANK),
    "restricted_card": ("The card cannot be used (may be lost or stolen)", _CALL_BANK),
    "security_violation": ("The card cannot be used (may be lost or stolen)", _CALL_BANK),
    "incorrect_number": ("The card number is wrong", _REENTER),
    "invalid_number": ("The card number is wrong", _REENTER),
    "incorrect_zip": ("The postal code is wrong", _REENTER),
    "invalid_cvc": ("The CVC is wrong", _REENTER),
    "invalid_expiry_month": ("The expiry month is wrong", _REENTER),
    "invalid_expiry_year": ("The expiry year is wrong", _REENTER),
    "incorrect_pin": ("The PIN is wrong", "Ask the customer to try again with the right PIN"),
    "invalid_pin": ("The PIN is wrong", "Ask the customer to try again with the right PIN"),
    "pin_try_exceeded": ("Too many wrong PIN attempts", _RETRY_OTHER),
    "offline_pin_required": ("The card needs a PIN", "Retry with the card inserted and its PIN"),
    "online_or_offline_pin_required": ("The card needs a PIN", "Retry with the card inserted and its PIN"),
    "authentication_required": ("The bank requires authentication (3-D Secure)", "Retry with authentication"),
    "approve_with_id": ("The payment could not be authorised", "Retry; if it fails again, call the bank"),
    "issuer_not_available": ("The bank could not be reached", "Retry the payment"),
    "processing_error": ("An error occurred while processing the card", "Retry the payment"),
    "reenter_transaction": ("The bank could not process the payment", "Retry the payment"),
    "try_again_later": ("The bank declined for now", "Retry later"),
    "invalid_account": ("The card or its account is invalid", _CALL_BANK),
    "invalid_amount": ("The amount is invalid or too large", _CALL_BANK),
    "new_account_information_available": ("The card or its account is invalid", "Ask for updated details"),
    "no_action_taken": ("The bank declined without a reason", _CALL_BANK),
    "not_permitted": ("The payment is not permitted", _CALL_BANK),
    "revocation_of_authorization": ("The customer stopped this payment", _CALL_BANK),
    "revocation_of_all_authorizations": ("The customer stopped all payments", _CALL_BANK),
    "service_not_allowed": ("The card does not allow this purchase", _CALL_BANK),
    "stop_payment_order": ("The customer stopped this payment", _CALL_BANK),
    "testmode_decline": ("A Stripe test card was used", "Use a real card (or test mode)"),
    "transaction_not_allowed": ("The card does not allow this purchase", _CALL_BANK),
    "withdrawal_count_limit_exceeded": ("The card's limit was exceeded", _RETRY_OTHER),
    "merchant_blacklist": ("The payment matched a block list", "Do not retry"),
}
_UNKNOWN = ("The payment was declined", _CALL_BANK)


def advice(code: str | None) -> DeclineAdvice | None:
    """The advice for a decline code; an unknown code gets the generic one, None gets None."""
    if not code:
        return None
    meaning, next_step = _TABLE.get(code, _UNKNOWN)
    return DeclineAdvice(code=code, meaning=meaning, next_step=next_step)


def known_codes() -> list[str]:
    return sorted(_TABLE)

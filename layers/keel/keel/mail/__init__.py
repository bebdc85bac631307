"""System e-mail (activation, invitations, password resets) through SES."""

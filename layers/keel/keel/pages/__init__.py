"""Small HTML pages for the links in system e-mail (activation, invitation, reset, e-mail change)."""

"""Data requests (GDPR/HIPAA): export everything held about a user; erase it; the deletion log."""

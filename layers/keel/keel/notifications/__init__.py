"""Notifications: channels, templates, rules, sends, delivery with fallback, history, preferences, inbox."""

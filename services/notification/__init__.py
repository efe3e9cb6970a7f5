"""Emails to citizens: templates, SMTP delivery and its states."""

"""Mail: the durable outbox (R22a), its sender, the templates, and the embedded SMTP server."""

"""Notifications: the outbox written with the event that causes it, its channels (email,
webhooks, chat, CDEvents), people's contact methods and rules, teams' subscriptions."""

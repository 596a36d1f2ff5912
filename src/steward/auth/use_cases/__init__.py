"""Account use cases: users, memberships, tokens, sessions, sign-in and integration credentials."""

"""What API routes and web pages share about a request: its database, how input errors read."""

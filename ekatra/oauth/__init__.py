"""OAuth 2.0: the authorization server, "Log in with Ekatra" and /api/v1/me."""

"""Authentication: OAuth2 client credentials, JWTs signed with our key pair, scopes per operation."""

"""The platform's SQL text. It lives at the top of the repository and installs as the package
`txn_sql` (see pyproject.toml), read through `txn_core.sql.load_sql`."""

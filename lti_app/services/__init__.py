"""Use cases called by views, jobs and the CLI; the only place business rules meet the database."""

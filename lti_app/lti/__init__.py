"""pylti1p3 glue: DB-backed tool configuration, server-side launch state, keys, LTI views."""

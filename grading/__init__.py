"""Pure grading rules: policy, score computation and AGS value helpers.

Imports nothing from Flask, SQLAlchemy or ``lti_app`` so views, jobs and the CLI share one
implementation that is tested without a database. Import from the submodules:
``grading.policy``, ``grading.compute`` and ``grading.ags``.
"""

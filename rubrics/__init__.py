"""Rubrics: model, validation, scoring (Canvas and Moodle rules), templates, import/export.

Pure Python on purpose: no Flask, no database, nothing from `lti_app`. Import the submodules
(`rubrics.model`, `rubrics.validation`, `rubrics.scoring`, `rubrics.templates`, `rubrics.io`,
`rubrics.form`).
"""

"""A development-only LTI 1.3 platform (the LMS side), mounted at /dev-lms by STINT_DEV_PLATFORM=1.

It exists so a newcomer can watch Stint work without owning Canvas or Moodle, and so the test
suite can drive real OIDC launches, deep linking, AGS and NRPS over real HTTP on loopback. It is
written independently of Stint's own LTI code (PyJWT + jwcrypto, never pylti1p3 or lti_app.lti)
so a misreading of the spec on the tool side is not silently shared by the platform;
docs/dev-platform.md explains why lti1p3platform was not used. Only the demo seed (``demo.seed``,
``demo.cohort``), which writes Stint's own rows, and ``registration`` use Stint's code.
"""

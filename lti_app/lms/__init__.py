"""Per-LMS behaviour, one adapter per kind of platform, chosen by ``adapter_for(platform)``.

What Canvas or Moodle does differently from the LTI specs' common ground lives in its adapter,
never as an ``if canvas`` inside a service.
"""

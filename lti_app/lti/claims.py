"""Reading LTI 1.3 claims into plain data, including which roles make someone an instructor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE = CLAIM + "message_type"
# LTI Submission Review 1.0: whose submission an LtiSubmissionReviewRequest opens.
FOR_USER = CLAIM + "for_user"
SUBMISSION_REVIEW_REQUEST = "LtiSubmissionReviewRequest"
ROLES = CLAIM + "roles"
CONTEXT = CLAIM + "context"
RESOURCE_LINK = CLAIM + "resource_link"
CUSTOM = CLAIM + "custom"
DEPLOYMENT_ID = CLAIM + "deployment_id"
TOOL_PLATFORM = CLAIM + "tool_platform"
LIS = CLAIM + "lis"
LAUNCH_PRESENTATION = CLAIM + "launch_presentation"
AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"

# Context roles that manage a course (TeachingAssistant also comes as Instructor#TeachingAssistant).
STAFF_CONTEXT_ROLES = frozenset(
    {"Instructor", "TeachingAssistant", "ContentDeveloper", "Administrator", "Mentor#Administrator"}
)
STAFF_SYSTEM_ROLES = frozenset({"Administrator", "SysAdmin"})
LEARNER_CONTEXT_ROLES = frozenset({"Learner", "Student"})


def _role_parts(role: str) -> tuple[str, str]:
    """Split a role URI into (kind, name); simple names are context roles (LTI 1.3 A.2.3.1)."""
    prefix = "http://purl.imsglobal.org/vocab/lis/v2/"
    if role.startswith(prefix):
        kind, _, name = role[len(prefix) :].partition("#")
        kind = kind.split("/")[0]
        return kind, name
    return "membership", role


def classify_roles(roles: list[str]) -> tuple[bool, bool]:
    """Return (is_instructor, is_learner).

    Context roles decide when present: Canvas sends institution roles (e.g. Instructor) even to
    someone who is a student in this course. Without context roles, only a system or institution
    administrator counts as staff.
    """
    parts = [_role_parts(role) for role in roles if isinstance(role, str)]
    context = [name for kind, name in parts if kind == "membership"]
    if context:
        staff = any(
            name in STAFF_CONTEXT_ROLES
            or name.split("#")[0] in STAFF_CONTEXT_ROLES
            or name.endswith("#TeachingAssistant")
            for name in context
        )
        learner = any(name.split("#")[0] in LEARNER_CONTEXT_ROLES for name in context)
        return staff, learner and not staff
    staff = any(
        kind in {"system", "institution"} and name in STAFF_SYSTEM_ROLES for kind, name in parts
    )
    return staff, False


def is_instructor_of_record(roles: list[str] | tuple[str, ...]) -> bool:
    """Whether these course roles may decide credit: grades, status, certificates.

    Platforms send a teaching assistant's principal role (``membership#Instructor``) alongside
    the sub-role ``membership/Instructor#TeachingAssistant``, so holding the Instructor role is
    not enough: any teaching-assistant role, in any spelling, rules the person out. A TA may
    still look and prepare (``classify_roles`` makes them staff) but not decide.
    """
    names = [
        name
        for kind, name in (_role_parts(r) for r in roles if isinstance(r, str))
        if kind == "membership"
    ]
    if any(
        role.endswith(("#TeachingAssistant", "/TeachingAssistant")) or role == "TeachingAssistant"
        for role in roles
        if isinstance(role, str)
    ):
        return False
    return "Instructor" in names


@dataclass(frozen=True)
class LaunchClaims:
    """The parts of a validated id_token Stint acts on."""

    message_type: str
    sub: str
    name: str
    given_name: str
    family_name: str
    email: str
    roles: tuple[str, ...]
    is_instructor: bool
    is_learner: bool
    deployment_id: str
    context_id: str
    context_label: str
    context_title: str
    resource_link_id: str | None
    resource_link_title: str
    custom_pairs: tuple[tuple[str, str], ...]
    lineitem_url: str | None
    lineitems_url: str | None
    ags_scopes: tuple[str, ...]
    nrps_url: str | None
    product_family: str
    # The institution's SIS id of the person (lis claim), for the registrar export.
    person_sourcedid: str = ""
    # False when the launch carried no context claim (optional in LTI 1.3): the course is then
    # a stand-in scoped to the deployment and resource link (``context_id`` says so).
    has_context: bool = True
    # The student whose submission a submission review launch opens (their LMS user id).
    for_user_sub: str = ""
    # The user's language as the LMS sends it (BCP 47, "de-DE"): launch_presentation.locale,
    # else the OIDC ``locale`` claim; "" when neither is sent.
    locale: str = ""

    @property
    def custom(self) -> dict[str, str]:
        """Custom parameters; kept as sorted pairs so claims are hashable (launch memory)."""
        return dict(self.custom_pairs)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_claims(body: dict[str, Any]) -> LaunchClaims:
    """Extract typed values; missing optional claims become empty values, never KeyErrors."""
    roles = (
        [r for r in body.get(ROLES, []) if isinstance(r, str)]
        if isinstance(body.get(ROLES), list)
        else []
    )
    is_instructor, is_learner = classify_roles(roles)
    context = _mapping(body.get(CONTEXT))
    link = _mapping(body.get(RESOURCE_LINK))
    ags = _mapping(body.get(AGS_ENDPOINT))
    nrps = _mapping(body.get(NRPS))
    custom = {str(k): str(v) for k, v in _mapping(body.get(CUSTOM)).items()}
    raw_scopes = ags.get("scope")
    scopes: list[Any] = raw_scopes if isinstance(raw_scopes, list) else []
    context_id = _text(context.get("id"))
    link_id = _text(link.get("id"))
    deployment_id = _text(body.get(DEPLOYMENT_ID))
    return LaunchClaims(
        message_type=_text(body.get(MESSAGE_TYPE)),
        sub=_text(body.get("sub")),
        name=_text(body.get("name")),
        given_name=_text(body.get("given_name")),
        family_name=_text(body.get("family_name")),
        email=_text(body.get("email")),
        roles=tuple(roles),
        is_instructor=is_instructor,
        is_learner=is_learner,
        deployment_id=deployment_id,
        context_id=context_id or standalone_context_id(deployment_id, link_id),
        context_label=_text(context.get("label")),
        context_title=_text(context.get("title"))
        or ("" if context_id else _text(link.get("title"))),
        resource_link_id=link_id or None,
        resource_link_title=_text(link.get("title")),
        custom_pairs=tuple(sorted(custom.items())),
        lineitem_url=_text(ags.get("lineitem")) or None,
        lineitems_url=_text(ags.get("lineitems")) or None,
        ags_scopes=tuple(s for s in scopes if isinstance(s, str)),
        nrps_url=_text(nrps.get("context_memberships_url")) or None,
        product_family=_text(_mapping(body.get(TOOL_PLATFORM)).get("product_family_code")),
        person_sourcedid=_text(_mapping(body.get(LIS)).get("person_sourcedid")).strip()[:255],
        has_context=bool(context_id),
        for_user_sub=_text(_mapping(body.get(FOR_USER)).get("user_id")),
        locale=(
            _text(_mapping(body.get(LAUNCH_PRESENTATION)).get("locale")).strip()
            or _text(body.get("locale")).strip()
        )[:35],
    )


def standalone_context_id(deployment_id: str, resource_link_id: str) -> str:
    """The course key of a launch without a context claim (LTI 1.3 §5.4.1 makes it optional).

    Such a link is its own little course: scoped to its deployment and resource link, so two
    links placed outside any course never share students, placements or grades. The prefix
    cannot be confused with a real context id of the same platform that merely looks alike,
    as real ones are never spelled with it by Canvas (numbers/hashes) or Moodle (numbers).
    """
    return f"lti-no-context:{deployment_id}:{resource_link_id}"[:255]

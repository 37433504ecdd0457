"""Names fixed by the LTI 1.3 / LTI Advantage specifications and by the dev platform's contract.

Kept in one place so the views, the store and the tests spell every claim and scope the same way.
"""

from __future__ import annotations

PLATFORM_NAME = "Stint development LMS"
PRODUCT_FAMILY_CODE = "stint-dev"
CLIENT_ID = "stint-dev-tool"
DEPLOYMENT_ID = "dev-deployment-1"

DEMO_CONTEXT_ID = "demo-course-101"
DEMO_CONTEXT_LABEL = "DEMO-101"
DEMO_CONTEXT_TITLE = "Micro-internships in practice"
DEMO_LINK_ID = "7d1c4a52e9b84f0e8a6b3c2d1e0f9a8b"

# Stable opaque subs so tool tests and bench scripts can name a user without a lookup.
DEMO_INSTRUCTOR_SUB = "3f6b2a90-1c4e-4d7a-9b8e-0a1d2c3e4f50"
DEMO_TA_SUB = "8a2e4c61-5b7d-4f93-a0c1-2d3e4f506172"
DEMO_STUDENT_SUBS = (
    "c1d2e3f4-0a1b-4c2d-8e3f-405162738495",
    "d2e3f405-1b2c-4d3e-9f40-5162738495a6",
    "e3f40516-2c3d-4e4f-a051-62738495a6b7",
    "f4051627-3d4e-4f50-b162-738495a6b7c8",
    "05162738-4e5f-4061-8273-8495a6b7c8d9",
)

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
CLAIM_MESSAGE_TYPE = LTI + "message_type"
CLAIM_VERSION = LTI + "version"
CLAIM_DEPLOYMENT_ID = LTI + "deployment_id"
CLAIM_TARGET_LINK_URI = LTI + "target_link_uri"
CLAIM_RESOURCE_LINK = LTI + "resource_link"
CLAIM_ROLES = LTI + "roles"
CLAIM_CONTEXT = LTI + "context"
CLAIM_TOOL_PLATFORM = LTI + "tool_platform"
CLAIM_LAUNCH_PRESENTATION = LTI + "launch_presentation"
CLAIM_CUSTOM = LTI + "custom"
CLAIM_LIS = LTI + "lis"
CLAIM_AGS_ENDPOINT = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
CLAIM_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
CLAIM_DL_SETTINGS = "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
CLAIM_DL_CONTENT_ITEMS = "https://purl.imsglobal.org/spec/lti-dl/claim/content_items"
CLAIM_DL_DATA = "https://purl.imsglobal.org/spec/lti-dl/claim/data"
CLAIM_DL_MSG = "https://purl.imsglobal.org/spec/lti-dl/claim/msg"
CLAIM_DL_ERRORMSG = "https://purl.imsglobal.org/spec/lti-dl/claim/errormsg"

MESSAGE_RESOURCE_LINK = "LtiResourceLinkRequest"
MESSAGE_DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
MESSAGE_DEEP_LINKING_RESPONSE = "LtiDeepLinkingResponse"

SCOPE_LINEITEM = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
SCOPE_LINEITEM_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
SCOPE_RESULT_READONLY = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
SCOPE_SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
SCOPE_NRPS = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
AGS_SCOPES = (SCOPE_LINEITEM, SCOPE_LINEITEM_READONLY, SCOPE_RESULT_READONLY, SCOPE_SCORE)
ALLOWED_SCOPES = frozenset((*AGS_SCOPES, SCOPE_NRPS))

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

MEDIA_LINEITEM = "application/vnd.ims.lis.v2.lineitem+json"
MEDIA_LINEITEM_CONTAINER = "application/vnd.ims.lis.v2.lineitemcontainer+json"
MEDIA_SCORE = "application/vnd.ims.lis.v1.score+json"
MEDIA_RESULT_CONTAINER = "application/vnd.ims.lis.v2.resultcontainer+json"
MEDIA_MEMBERSHIP_CONTAINER = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"

CANVAS_SUBMISSION_EXTENSION = "https://canvas.instructure.com/lti/submission"

ROLE_INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
ROLE_LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
ROLE_TEACHING_ASSISTANT = (
    "http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant"
)
INSTITUTION_FACULTY = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"
INSTITUTION_STAFF = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Staff"
INSTITUTION_STUDENT = "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"
SYSTEM_USER = "http://purl.imsglobal.org/vocab/lis/v2/system/person#User"
CONTEXT_TYPE_COURSE_OFFERING = "http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"

ACTIVITY_PROGRESS = frozenset({"Initialized", "Started", "InProgress", "Submitted", "Completed"})
GRADING_PROGRESS = frozenset({"FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"})

FAULT_KINDS = frozenset({"500", "timeout", "401", "503"})
COUNTER_NAMES = (
    "token_requests",
    "tokens_issued",
    "score_posts_accepted",
    "score_posts_refused",
    "line_item_creates",
    "nrps_pages_served",
    "faults_injected",
)

# Languages the course page can launch in (BCP 47, as Canvas and Moodle send them); the first is
# the default. Sent as launch_presentation.locale and the OIDC locale claim.
LAUNCH_LOCALES = ("en", "es-ES", "de-DE", "fr-FR")
# LTI Client Side postMessages: the name of the frame that keeps tools' data (Canvas's name).
# Offered when the course's gradebook imitates Canvas; Moodle (4.5) does not offer it.
PLATFORM_STORAGE_FRAME = "post_message_forwarding"
PLATFORM_STORAGE_KINDS = frozenset({"canvas"})

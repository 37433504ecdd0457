"""The human side of the dev LMS: course page, launch frame, roster, gradebook, mailbox, faults."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Blueprint, Response, redirect, render_template, request, url_for
from werkzeug.wrappers import Response as BaseResponse

from . import constants as c
from . import gradebook
from .course_copy import copy_course
from .mailbox import linkify, list_messages, read_message
from .records import Member, ResourceLink
from .review import reviewable
from .store import DevStore
from .tools import all_tools, find_tool
from .web import base_url, error_page, mailbox_dir, store

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def register_pages(bp: Blueprint) -> None:
    bp.add_url_rule("/", view_func=course, methods=["GET"])
    bp.add_url_rule("/course/launch", view_func=launch, methods=["GET"])
    bp.add_url_rule("/course/copy", view_func=copy, methods=["POST"])
    bp.add_url_rule("/course/return", view_func=launch_return, methods=["GET"])
    bp.add_url_rule("/platform-storage", view_func=platform_storage, methods=["GET"])
    bp.add_url_rule("/roster", view_func=roster, methods=["GET", "POST"])
    bp.add_url_rule(
        "/gradebook", endpoint="gradebook", view_func=gradebook_page, methods=["GET", "POST"]
    )
    bp.add_url_rule("/mailbox", view_func=mailbox, methods=["GET"])
    bp.add_url_rule("/mailbox/<filename>", view_func=mail_message, methods=["GET"])
    bp.add_url_rule("/faults", view_func=faults, methods=["GET", "POST"])


def launch_locale(value: str | None) -> str:
    """The language a launch is made in: one of the course page's choices, else English."""
    return value if value in c.LAUNCH_LOCALES else c.LAUNCH_LOCALES[0]


def course(problem: str | None = None) -> tuple[str, int]:
    """A course's page (the demo course unless ``context`` names another, such as a copy)."""
    db = store()
    context = db.context(request.values.get("context", c.DEMO_CONTEXT_ID))
    if context is None:
        return error_page("No such course.", 404)
    links = db.resource_links(context.id)
    graded = {link.id: db.line_items(context.id, resource_link_id=link.id)[0] for link in links}
    tools = {known.client_id: known for known in all_tools(db, base_url())}
    return render_template(
        "dev_platform/course.html",
        context=context,
        contexts=db.contexts(),
        links=links,
        graded=graded,
        tools=tools,
        pickers=[t for t in tools.values() if t.active and t.deep_linking_url],
        members=db.members(context.id),
        locales=c.LAUNCH_LOCALES,
        locale=launch_locale(request.args.get("locale")),
        problem=problem,
        typed=request.form,
    ), (400 if problem else 200)


def _valid_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def copy() -> BaseResponse | tuple[str, int]:
    """ "Copy course", as Canvas does it: a new course with history, links and line items."""
    db = store()
    source = db.context(request.form.get("context", ""))
    if source is None:
        return error_page("No such course to copy.", 404)
    title = request.form.get("title", "").strip()
    start = request.form.get("starts_on", "").strip()
    if not title or len(title) > 200:
        return course("Give the new course a title (up to 200 characters).")
    if start and not _valid_date(start):
        return course("Give the start date as YYYY-MM-DD, or leave it empty.")
    with db.transaction() as connection:
        new_id = copy_course(
            connection,
            source.id,
            title=title,
            label=f"{source.label}-COPY",
            starts_at=f"{start}T00:00:00+00:00" if start else None,
        )
    return redirect(url_for("dev_platform.course", context=new_id), code=303)


def launch() -> Response | tuple[str, int] | str:
    """The LMS page that frames Stint; the frame's first stop starts the OIDC login."""
    db = store()
    context_id = request.args.get("context", c.DEMO_CONTEXT_ID)
    context = db.context(context_id)
    if context is None:
        return error_page("No such course.", 404)
    member = db.member(context_id, request.args.get("user", ""))
    if member is None:
        return error_page("No such user in this course (the user parameter is a sub).", 404)
    if member.status != "Active":
        return error_page(f"{member.name} is inactive in this course and cannot launch.", 403)
    deep_link = request.args.get("deep_link") == "1"
    link = None
    review = None
    if request.args.get("review_item"):
        found = _review_target(db, context_id, member, request.args)
        if isinstance(found, str):
            return error_page(found, 404)
        link, review = found
    elif deep_link:
        if not member.is_instructor:
            return error_page("Only an instructor can add an activity.", 403)
    else:
        link = db.resource_link(request.args.get("link", ""))
        if link is None or link.context_id != context_id:
            return error_page("No such activity in this course (the link parameter).", 404)
    # A link launches its own tool; deep linking asks the tool chosen (the built-in one unless
    # the tool parameter names another).
    client_id = link.client_id if link else request.args.get("tool", c.CLIENT_ID)
    launched = find_tool(db, base_url(), client_id)
    if launched is None:
        return error_page("No such tool in this LMS (the tool parameter).", 404)
    if not launched.active:
        return error_page(
            f"The tool {launched.label} is not active in this LMS, so its activities cannot be"
            " launched. An administrator can activate it on the Tools page.",
            403,
        )
    if deep_link and link is None and not launched.deep_linking_url:
        return error_page(f"The tool {launched.label} offers no deep linking.", 404)
    hint = db.create_hint(
        member.sub,
        context_id,
        resource_link_id=link.id if link else None,
        deep_link=deep_link,
        review=review,
        locale=launch_locale(request.args.get("locale")),
        client_id=launched.client_id,
    )
    return render_template(
        "dev_platform/launch.html",
        context=context,
        member=member,
        link=link,
        tool=launched,
        frame_src=url_for("dev_platform.login_init", hint=hint.token),
        storage_frame_name=c.PLATFORM_STORAGE_FRAME if offers_platform_storage(context_id) else "",
        storage_frame_src=f"{base_url()}/dev-lms/platform-storage",
    )


def _review_target(
    db: DevStore, context_id: str, member: Member, args: Any
) -> tuple[ResourceLink, tuple[str, int]] | str:
    """The link and (student, line item) of a "review submission" launch, or why not.

    A teacher reviews any student's submission; a student only their own (as Moodle offers)."""
    try:
        item = db.line_item(context_id, int(args.get("review_item", "")))
    except ValueError:
        item = None
    if item is None or not item.submission_review or not item.resource_link_id:
        return "No line item of this course offers submission review (the review_item parameter)."
    student_sub = args.get("review_for") or member.sub
    if not member.is_instructor and student_sub != member.sub:
        return "A student can review only their own submission."
    link = db.resource_link(item.resource_link_id)
    if link is None or db.member(context_id, student_sub) is None:
        return "No such student or activity in this course."
    return link, (student_sub, item.id)


def offers_platform_storage(context_id: str) -> bool:
    """Platform storage (LTI client side postMessages) where the course imitates Canvas."""
    return gradebook.rules_for(store().connection, context_id) in c.PLATFORM_STORAGE_KINDS


def platform_storage() -> str:
    """The frame that answers ``lti.put_data``/``lti.get_data`` (Canvas's
    ``post_message_forwarding``), served from the authorization endpoint's origin."""
    return render_template("dev_platform/platform_storage.html")


def launch_return() -> str:
    return render_template(
        "dev_platform/return.html",
        message=request.args.get("lti_msg"),
        error_message=request.args.get("lti_errormsg"),
    )


def roster() -> BaseResponse | tuple[str, int] | str:
    db = store()
    context_id = c.DEMO_CONTEXT_ID
    problem = None
    if request.method == "POST":
        action = request.form.get("action")
        if action == "status":
            status = request.form.get("status", "")
            if status not in {"Active", "Inactive"} or not db.set_member_status(
                context_id, request.form.get("sub", ""), status
            ):
                return error_page("Unknown member or status.")
            return redirect(url_for("dev_platform.roster"), code=303)
        if action == "add":
            given = request.form.get("given_name", "").strip()
            family = request.form.get("family_name", "").strip()
            email = request.form.get("email", "").strip()
            if not given or not family or not _EMAIL.match(email):
                problem = "Give a first name, a last name and a valid email address."
            else:
                db.add_student(context_id, given, family, email)
                return redirect(url_for("dev_platform.roster"), code=303)
        elif action != "status":
            return error_page("Unknown roster action.")
    context = db.context(context_id)
    return render_template(
        "dev_platform/roster.html",
        context=context,
        members=db.members(context_id),
        problem=problem,
    ), (400 if problem else 200)


def _change_gradebook(form: dict[str, str]) -> str | None:
    """A POST from the gradebook page: switch the rules, or change one grade by hand.

    Returns a problem to show, or None when the change was made."""
    db = store()
    context_id = c.DEMO_CONTEXT_ID
    if form.get("action") == "rules":
        if form.get("kind") not in gradebook.KINDS:
            return "Choose which LMS the gradebook imitates."
        gradebook.set_rules(db.connection, context_id, form["kind"])
        return None
    if form.get("action") != "grade":
        return "Unknown gradebook action."
    try:
        item_id = int(form.get("item", ""))
    except ValueError:
        item_id = -1
    item = db.line_item(context_id, item_id)
    member = db.member(context_id, form.get("user", ""))
    if item is None or member is None:
        return "Unknown line item or student."
    raw = form.get("score", "").strip()
    try:
        score = Decimal(raw) if raw else None
    except InvalidOperation:
        score = Decimal(-1)
    if score is not None and (not score.is_finite() or not 0 <= score <= item.score_maximum):
        return f"The grade must be a number from 0 to {item.score_maximum}, or empty."
    comment = form.get("comment", "").strip() or None
    gradebook.change_grade_by_hand(db, item.id, member.sub, score, comment)
    return None


def gradebook_page() -> BaseResponse | tuple[str, int]:
    """What the tool passed back, per student and line item, and a teacher's hand changes."""
    db = store()
    context = db.context(c.DEMO_CONTEXT_ID)
    assert context is not None
    problem = None
    if request.method == "POST":
        problem = _change_gradebook(request.form.to_dict())
        if problem is None:
            return redirect(url_for("dev_platform.gradebook"), code=303)
    items, _ = db.line_items(context.id)
    link_titles = {link.id: link.title for link in db.resource_links(context.id)}
    cells = {item.id: db.latest_scores(item.id) for item in items}
    files = {item.id: gradebook.latest_submissions(db.connection, item.id) for item in items}
    scored = {user for scores in cells.values() for user in scores}
    students = [
        member
        for member in db.members(context.id)
        if c.ROLE_LEARNER in member.roles or member.sub in scored
    ]
    return render_template(
        "dev_platform/gradebook.html",
        context=context,
        items=items,
        link_titles=link_titles,
        cells=cells,
        submissions=files,
        students=students,
        extension_key=c.CANVAS_SUBMISSION_EXTENSION,
        rules=gradebook.rules_for(db.connection, context.id),
        kinds=gradebook.KINDS,
        is_late=gradebook.is_late,
        reviewable=reviewable,
        instructor_sub=c.DEMO_INSTRUCTOR_SUB,
        problem=problem,
    ), (400 if problem else 200)


def mailbox() -> str:
    return render_template(
        "dev_platform/mailbox.html", messages=list_messages(mailbox_dir()), folder=mailbox_dir()
    )


# A srcdoc frame inherits its parent's CSP; inline styles are what HTML mail is made of, and the
# frame's sandbox already forbids scripts, so this page relaxes only style-src.
_MESSAGE_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'self'"
)


def mail_message(filename: str) -> Response | tuple[str, int]:
    message = read_message(mailbox_dir(), filename)
    if message is None:
        return error_page("No such message.", 404)
    page = render_template(
        "dev_platform/message.html",
        message=message,
        text_html=linkify(message.text) if message.text is not None else None,
    )
    return Response(page, headers={"Content-Security-Policy": _MESSAGE_CSP})


def faults() -> BaseResponse | tuple[str, int] | str:
    db = store()
    if request.method == "POST":
        if request.form.get("action") == "clear":
            db.clear_faults()
        else:
            kind = request.form.get("kind", "")
            try:
                count = int(request.form.get("count", ""))
            except ValueError:
                count = -1
            if kind not in c.FAULT_KINDS or count < 0:
                return error_page("Choose a fault kind and a count of 0 or more.")
            db.set_faults(kind, count)
        return redirect(url_for("dev_platform.faults"), code=303)
    return render_template(
        "dev_platform/faults.html",
        pending=db.pending_faults(),
        kinds=sorted(c.FAULT_KINDS),
        counters=db.counters(),
    )

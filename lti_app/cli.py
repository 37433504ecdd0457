"""``flask --app lti_app stint ...`` commands for administrators."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from lti_app.cli_data import platform_retention, purge, student_group
from lti_app.cli_rubrics import rubric_group
from lti_app.dev_platform.demo.cohort import add_cohort
from lti_app.dev_platform.demo.seed import seed_demo
from lti_app.dev_platform.registration import dev_platform_spec
from lti_app.extensions import db
from lti_app.jobs import queue
from lti_app.lti.keys import ensure_active_key, rotate_keys
from lti_app.read_models.change_stamps import EVERY_COURSE, replace_stamps
from lti_app.read_models.dashboard import student_states
from lti_app.services import permissions
from lti_app.services.audit import forget_deleted_courses
from lti_app.services.platforms import (
    CANVAS_CLOUD,
    PlatformInputError,
    PlatformSpec,
    list_platforms,
    register_platform,
    remove_platform,
)
from lti_app.services.registration import (
    DEFAULT_INVITE_HOURS,
    create_invite,
    platform_statuses,
    status_view_token,
)

stint = AppGroup("stint", help="Administer Stint.")
platform_group = AppGroup("platform", help="LMS registrations.")
keys_group = AppGroup("keys", help="The tool's signing keys.")
dev_group = AppGroup("dev", help="Development LMS helpers (STINT_DEV_PLATFORM=1 only).")
stint.add_command(platform_group)
stint.add_command(keys_group)
stint.add_command(dev_group)
stint.add_command(rubric_group)
stint.add_command(purge)
stint.add_command(student_group)
platform_group.add_command(platform_retention)
demo_group = AppGroup("demo", help="A demo course to click through (STINT_DEV_PLATFORM=1 only).")
stint.add_command(demo_group)


@platform_group.command("add")
@click.option("--issuer", help="The platform's issuer (iss).")
@click.option("--client-id", required=True)
@click.option("--auth-login-url")
@click.option("--auth-token-url")
@click.option("--key-set-url")
@click.option("--deployment-id", "deployment_ids", multiple=True, required=True)
@click.option("--name", default="")
@click.option("--lms", type=click.Choice(["canvas", "moodle", "other"]), default=None)
@click.option("--auth-audience", default=None, help="Token audience if not the token URL.")
@click.option(
    "--preset", type=click.Choice(["canvas"]), default=None, help="Fill Canvas cloud URLs."
)
def platform_add(
    issuer: str | None,
    client_id: str,
    auth_login_url: str | None,
    auth_token_url: str | None,
    key_set_url: str | None,
    deployment_ids: tuple[str, ...],
    name: str,
    lms: str | None,
    auth_audience: str | None,
    preset: str | None,
) -> None:
    """Register an LMS (or add deployments to a registered one)."""
    defaults = CANVAS_CLOUD if preset == "canvas" else {}
    spec = PlatformSpec(
        issuer=issuer or defaults.get("issuer", ""),
        client_id=client_id,
        auth_login_url=auth_login_url or defaults.get("auth_login_url", ""),
        auth_token_url=auth_token_url or defaults.get("auth_token_url", ""),
        key_set_url=key_set_url or defaults.get("key_set_url", ""),
        deployment_ids=deployment_ids,
        name=name,
        lms=lms or ("canvas" if preset == "canvas" else "other"),
        auth_audience=auth_audience,
    )
    try:
        platform = register_platform(spec)
    except PlatformInputError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        raise SystemExit(2) from exc
    db.session.commit()
    click.echo(
        f"Registered platform {platform.id}: {platform.issuer} (client id {platform.client_id})"
    )


@platform_group.command("invite")
@click.option(
    "--lms",
    type=click.Choice(["moodle", "canvas", "other"]),
    default="other",
    help="The LMS that will use the link (its frames are allowed to show the registration).",
)
@click.option(
    "--hours", type=click.IntRange(1, 24 * 30), default=DEFAULT_INVITE_HOURS, show_default=True
)
def platform_invite(lms: str, hours: int) -> None:
    """Print a one-time link an LMS administrator pastes into the LMS to register Stint."""
    code = create_invite(lms, hours)
    db.session.commit()
    base = current_app.config["STINT_BASE_URL"]
    click.echo(f"{base}/lti/register/{code}")
    click.echo(
        f"Works once, for {hours} hours. Moodle: Site administration → Plugins → External tool "
        "→ Manage tools → Tool URL → Add LTI Advantage. Canvas: Admin → Developer keys → "
        "+ Developer key → + LTI Registration.",
        err=True,
    )


@platform_group.command("status")
def platform_status() -> None:
    """Each platform's registration method, granted scopes, last launch and problems."""
    for p in platform_statuses():
        scopes = (
            "not reported" if p.granted_scopes is None else " ".join(p.granted_scopes) or "none"
        )
        click.echo(f"{p.id}\t{p.lms}\t{p.name}\t{p.registration_method}")
        launched = f"{p.last_launch_at:%Y-%m-%d %H:%M} UTC" if p.last_launch_at else "never"
        click.echo(f"\tlast launch: {launched}\tscopes: {scopes}")
        for problem in p.problems:
            click.echo(f"\tproblem: {problem}")
    base = current_app.config["STINT_BASE_URL"]
    token = status_view_token(current_app.config["SECRET_KEY"])
    click.echo(f"On the web for one hour: {base}/lti/config?view={token}#platforms", err=True)


@platform_group.command("list")
def platform_list() -> None:
    """Show registered platforms and their deployments."""
    platforms = list_platforms()
    if not platforms:
        click.echo("No platforms registered.")
    for p in platforms:
        deployments = ", ".join(d.deployment_id for d in p.deployments)
        click.echo(
            f"{p.id}\t{p.lms}\t{p.name}\t{p.issuer}\tclient={p.client_id}\tdeployments={deployments}"
        )


@platform_group.command("remove")
@click.argument("platform_id", type=int)
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def platform_remove(platform_id: int, yes: bool) -> None:
    """Remove a registration and everything recorded under it."""
    if not yes:
        click.confirm(
            "This deletes the platform's courses, users and activities in Stint. Continue?",
            abort=True,
        )
    if not remove_platform(platform_id):
        click.echo(f"error: no platform {platform_id}", err=True)
        raise SystemExit(2)
    forget_deleted_courses()
    db.session.commit()
    click.echo(f"Removed platform {platform_id}")


permissions_group = AppGroup(
    "permissions", help="Widen what teaching assistants and designers may do on a platform."
)
platform_group.add_command(permissions_group)


@permissions_group.command("show")
@click.argument("platform_id", type=int)
def permissions_show(platform_id: int) -> None:
    """Every action, who may take it by default, and what this platform adds."""
    grants = permissions.platform_grants(platform_id)
    if grants is None:
        click.echo(f"error: no platform {platform_id}", err=True)
        raise SystemExit(2)
    for name, action in permissions.ACTIONS.items():
        roles = [r.value for r in permissions.Role if r in action.roles]
        added = [r.value for r, names in grants.items() if name in names and r not in action.roles]
        extra = f"  + {', '.join(added)} (this platform)" if added else ""
        click.echo(f"{name:22} {', '.join(roles)}{extra}")


@permissions_group.command("allow")
@click.argument("platform_id", type=int)
@click.argument("role")
@click.argument("action")
def permissions_allow(platform_id: int, role: str, action: str) -> None:
    """Let ROLE (teaching_assistant or designer) take ACTION on this platform's courses."""
    _set_grant(platform_id, role, action, allow=True)


@permissions_group.command("reset")
@click.argument("platform_id", type=int)
@click.argument("role")
@click.argument("action")
def permissions_reset(platform_id: int, role: str, action: str) -> None:
    """Take back a widening: ROLE keeps ACTION only if the defaults give it."""
    _set_grant(platform_id, role, action, allow=False)


def _set_grant(platform_id: int, role: str, action: str, *, allow: bool) -> None:
    try:
        found = permissions.set_grant(platform_id, role, action, allow)
    except permissions.PermissionSettingError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    if not found:
        click.echo(f"error: no platform {platform_id}", err=True)
        raise SystemExit(2)
    db.session.commit()
    click.echo(
        f"Platform {platform_id}: {role} {'may now' if allow else 'keeps only the default for'} "
        f"{action}."
    )


@keys_group.command("rotate")
def keys_rotate() -> None:
    """Create a new signing key; the previous one stays published for 7 days."""
    key = rotate_keys()
    click.echo(f"New active key {key.kid}")


@keys_group.command("ensure")
def keys_ensure() -> None:
    """Create the first signing key if there is none (first start)."""
    click.echo(f"Active key {ensure_active_key().kid}")


@dev_group.command("register")
def dev_register() -> None:
    """Register the development LMS as a platform of this Stint."""
    if not current_app.config["STINT_DEV_PLATFORM"]:
        click.echo("error: STINT_DEV_PLATFORM is not enabled", err=True)
        raise SystemExit(2)
    platform = register_platform(dev_platform_spec(current_app.config["STINT_BASE_URL"]))
    db.session.commit()
    ensure_active_key()
    click.echo(f"Development LMS registered as platform {platform.id}")


@stint.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (or threads); default: one per CPU core.",
)
@click.option(
    "--worker-type",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Processes use every core (PDF rendering is CPU work); threads share one.",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Schedule the periodic jobs (sweeps, reminders); each runs once however many do.",
)
def worker(workers: int | None, worker_type: str, periodic: bool) -> None:
    """Run the background job consumer (email, grade sync, certificates, reminders)."""
    try:
        queue.run_worker(workers, worker_type=worker_type, periodic=periodic)
    except queue.SecretMismatchError as error:
        click.echo(f"error: {error}", err=True)
        raise SystemExit(2) from error


@stint.command("refresh-summaries")
def refresh_summaries() -> None:
    """Recompute every dashboard's cached counts on its next view (after a restore or SQL edit).

    Stint's own writes replace the stamps themselves (read_models.change_stamps) and keep each
    student's dashboard row (read_models.dashboard.student_states); a change made to the
    database by other means does neither, so the rows are recomputed from the facts here.
    """
    student_states.rebuild(db.session())
    db.session.commit()
    replace_stamps(current_app.extensions["stint_cache"], [EVERY_COURSE])
    click.echo("Every course's cached summaries will be recomputed on their next view.")


@demo_group.command("seed")
@click.option(
    "--cohort",
    default=0,
    show_default=True,
    help="Also add this many made-up students in every stage, to fill the dashboard.",
)
def demo_seed(cohort: int) -> None:
    """Seed the development LMS's demo course: partners, projects, rubric, activity (idempotent)."""
    if not current_app.config["STINT_DEV_PLATFORM"]:
        click.echo("error: STINT_DEV_PLATFORM is not enabled", err=True)
        raise SystemExit(2)
    report = seed_demo(
        current_app.config["STINT_BASE_URL"], current_app.config, current_app.instance_path
    )
    if report.changed:
        made = ", ".join(f"{n} {kind}" for kind, n in report.created.items() if n)
        click.echo(f"Demo seeded: {made}.")
    else:
        click.echo("Demo already seeded; nothing changed.")
    if cohort:
        added = add_cohort(report.activity_id, cohort, 3, prefix="demo-cohort")
        click.echo(f"Cohort: {added.students} made-up students added.")
    click.echo(
        f"Open {current_app.config['STINT_BASE_URL'].rstrip('/')}/dev-lms/ and launch as Ada"
        " Lovelace (instructor) or a student."
    )


def init_cli(app: Flask) -> None:
    app.cli.add_command(stint)

"""Ready-made rubrics an instructor can start from.

They are written for the company supervisor who fills them in: someone who knows good work
when they see it but has never read an academic rubric. Every criterion asks one plain
question and every level describes what the supervisor would have seen at work, with the
same four levels everywhere (Exemplary 4, Proficient 3, Developing 2, Beginning 1) so a
supervisor who has filled one template has learnt them all.

The templates go through `parse_rubric` when this module is imported, so a template that
breaks a rule fails every test run instead of reaching a supervisor.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from rubrics.model import Rubric
from rubrics.validation import parse_rubric

LEVEL_SCALE: Final = (
    ("exemplary", "Exemplary", "4"),
    ("proficient", "Proficient", "3"),
    ("developing", "Developing", "2"),
    ("beginning", "Beginning", "1"),
)

# slug -> (title, description, [(criterion id, title, question, (four descriptors))])
_Descriptors = tuple[str, str, str, str]
_Criterion = tuple[str, str, str, _Descriptors]

_TEMPLATES: Final[dict[str, tuple[str, str, tuple[_Criterion, ...]]]] = {
    "professional-performance": (
        "Professional performance",
        "How the student worked during the placement, as their supervisor saw it day to day.",
        (
            (
                "productivity",
                "Productivity",
                "How much useful work did the student get done in the time they had?",
                (
                    "Delivered more than was asked, without being chased, and at a pace you "
                    "would expect from a junior employee.",
                    "Delivered what was asked in the time agreed, with reasonable use of "
                    "their hours.",
                    "Delivered part of what was asked; time was lost to slow starts or to "
                    "waiting for direction.",
                    "Delivered little usable work; most tasks were unfinished or needed "
                    "redoing by someone else.",
                ),
            ),
            (
                "communication",
                "Communication",
                "Did the student keep you informed and make themselves understood?",
                (
                    "Kept you informed before you had to ask, raised problems early, and "
                    "wrote and spoke clearly enough to share with clients.",
                    "Answered promptly, reported progress when asked, and was easy to understand.",
                    "Was sometimes hard to reach or unclear; you occasionally had to chase "
                    "updates or ask what they meant.",
                    "Rarely gave updates; problems surfaced late or only when you asked.",
                ),
            ),
            (
                "creativity",
                "Creativity and initiative",
                "Did the student bring ideas of their own to the work?",
                (
                    "Proposed ideas or improvements the team actually used, and tried "
                    "sensible approaches on their own before asking.",
                    "Offered some ideas of their own and adapted examples to the problem in "
                    "front of them.",
                    "Followed instructions closely; new ideas came only when prompted.",
                    "Waited to be told what to do at each step; did not suggest alternatives "
                    "even when stuck.",
                ),
            ),
            (
                "reliability",
                "Reliability",
                "Could you count on the student to do what they said they would?",
                (
                    "Always did what they committed to, on time; you could hand them a task "
                    "and stop thinking about it.",
                    "Usually did what they committed to; the odd slip was flagged in advance.",
                    "Sometimes missed commitments or meetings without warning; needed reminders.",
                    "Often missed commitments or meetings; you could not plan around them.",
                ),
            ),
        ),
    ),
    "human-skills": (
        "Human skills",
        "How the student worked with people and handled themselves at work.",
        (
            (
                "adaptability",
                "Adaptability",
                "How did the student cope when plans, tools or priorities changed?",
                (
                    "Took changes in their stride, learnt new tools quickly and helped "
                    "others adjust.",
                    "Adjusted to changes after a short explanation and kept working.",
                    "Struggled with changes; needed extra help or time to get going again.",
                    "Resisted or stalled when something changed; work stopped until someone "
                    "stepped in.",
                ),
            ),
            (
                "accountability",
                "Accountability",
                "Did the student own their work, including their mistakes?",
                (
                    "Owned their results, admitted mistakes straight away and fixed them "
                    "without being asked.",
                    "Accepted responsibility for their work and fixed mistakes once pointed out.",
                    "Sometimes explained problems away or needed pushing to fix their mistakes.",
                    "Blamed others or circumstances; mistakes stayed unfixed.",
                ),
            ),
            (
                "teamwork",
                "Teamwork",
                "How well did the student work with you and your colleagues?",
                (
                    "Helped colleagues without being asked, shared what they knew, and made "
                    "the team work better.",
                    "Cooperated well, respected others' time and did their share.",
                    "Worked alongside the team but mostly on their own; sometimes missed "
                    "what others needed from them.",
                    "Caused friction or was hard to work with; colleagues avoided relying on them.",
                ),
            ),
            (
                "problem-solving",
                "Problem-solving",
                "When the student got stuck, what did they do?",
                (
                    "Broke problems down, tried reasoned options, and came to you with a "
                    "proposed solution rather than just the problem.",
                    "Worked through ordinary problems on their own and asked for help at "
                    "the right moment.",
                    "Solved simple problems but asked for help early or late on harder ones.",
                    "Stopped at the first obstacle and waited for someone else to solve it.",
                ),
            ),
            (
                "self-discipline",
                "Self-discipline",
                "Did the student manage their own time and focus without supervision?",
                (
                    "Planned their own work, kept to it without reminders, and stayed "
                    "focused under pressure.",
                    "Managed their time well with occasional check-ins.",
                    "Needed regular reminders to stay on track or to keep to working hours.",
                    "Needed close supervision to get anything done.",
                ),
            ),
        ),
    ),
    "deliverable-quality": (
        "Deliverable quality",
        "The quality of what the student handed in, judged as you would judge work for a client.",
        (
            (
                "meets-the-brief",
                "Meets the brief",
                "Does the work do what the project brief asked for?",
                (
                    "Does everything the brief asked and anticipates needs the brief did not "
                    "spell out.",
                    "Does everything the brief asked.",
                    "Does most of what the brief asked; some requirements are missing or "
                    "misunderstood.",
                    "Misses the point of the brief or leaves out major requirements.",
                ),
            ),
            (
                "technical-execution",
                "Technical execution",
                "Is the work well made by the standards of your field?",
                (
                    "Work you would ship or hand to a client as it is; sound methods, no "
                    "errors found.",
                    "Solid work with minor errors or rough edges that are quick to fix.",
                    "Works in part; several errors or weak methods would need rework before use.",
                    "Does not work or could not be used without starting again.",
                ),
            ),
            (
                "documentation",
                "Documentation",
                "Could someone else pick up and use the work from what the student wrote?",
                (
                    "A colleague could use, run or continue the work from the documentation alone.",
                    "Documentation covers the essentials; a colleague would need only a "
                    "short handover.",
                    "Documentation is thin or out of date; a colleague would need the "
                    "student's help.",
                    "No useful documentation.",
                ),
            ),
            (
                "timeliness",
                "Timeliness",
                "Were the deliverables handed in when agreed?",
                (
                    "Everything on or before the agreed dates, with drafts early enough to "
                    "act on feedback.",
                    "Everything on the agreed dates, or late only with your agreement.",
                    "Some deliverables late without agreement, but in time to be useful.",
                    "Deliverables late enough to cause problems, or never handed in.",
                ),
            ),
        ),
    ),
}


def _build(title: str, description: str, criteria: tuple[_Criterion, ...]) -> Rubric:
    return parse_rubric(
        {
            "title": title,
            "description": description,
            "scoring_mode": "canvas",
            "criteria": [
                {
                    "id": criterion_id,
                    "title": criterion_title,
                    "description": question,
                    "levels": [
                        {
                            "id": level_id,
                            "title": level_title,
                            "description": descriptor,
                            "points": points,
                        }
                        for (level_id, level_title, points), descriptor in zip(
                            LEVEL_SCALE, descriptors, strict=True
                        )
                    ],
                }
                for criterion_id, criterion_title, question, descriptors in criteria
            ],
        }
    )


BUILTIN_TEMPLATES: Final[Mapping[str, Rubric]] = MappingProxyType(
    {slug: _build(*definition) for slug, definition in _TEMPLATES.items()}
)

"""What the demo course offers on Stint's side: two partners, three projects, a rubric template.

Kept apart from the code that writes it (``seed``) so the demo's wording changes without touching
the seeding logic; the titles match what the development LMS shows (``lms_course``).
"""

from __future__ import annotations

from typing import Any

DEMO_RUBRIC_TEMPLATE = "professional-performance"
DEMO_ACTIVITY_TITLE = "Spring micro-internship"  # the development LMS's title for DEMO_LINK_ID

PARTNERS = (
    {
        "name": "Harbor Health Co-op",
        "website": "https://harborhealth.example.org",
        "description": "A member-owned network of three community clinics.",
        "contact_name": "María José Núñez",
        "contact_email": "mj.nunez@harborhealth.example.org",
    },
    {
        "name": "Northwind Analytics",
        "website": "https://northwind.example.com",
        "description": "A twelve-person data consultancy working with local retailers.",
        "contact_name": "Tomasz Wójcik",
        "contact_email": "tomasz@northwind.example.com",
    },
)

PROJECTS: tuple[dict[str, Any], ...] = (
    {
        "partner": 0,
        "title": "Accessible onboarding for a community clinic",
        "summary": "Make the patient sign-up flow usable with a screen reader and on a phone.",
        "brief_md": (
            "Patients register online before their first visit. Many give up halfway.\n\n"
            "**Your job:** audit the current flow against WCAG 2.1 AA, interview two front-desk "
            "staff, and propose a redesigned flow as a clickable prototype.\n\n"
            "- Audit report with screenshots\n- Interview notes\n- Prototype link (Figma or HTML)"
        ),
        "skills": ("User research", "Accessibility", "Prototyping"),
        "industry": "Technology",
        "duration_days": 28,
        "hours": "40",
        "capacity": 2,
        "supervisor": ("María José Núñez", "mj.nunez@harborhealth.example.org"),
        "deliverables": (
            ("Accessibility audit", 10, "A report of the barriers found, by severity."),
            ("Prototype and handover", 28, "A link to the prototype and a short write-up."),
        ),
    },
    {
        "partner": 1,
        "title": "Sales dashboard for a bakery chain",
        "summary": "Turn two years of till exports into a weekly dashboard the owners will read.",
        "brief_md": (
            "Four bakeries export their sales as CSV every night.\n\n"
            "**Your job:** clean the data, find the three questions the owners ask every week, "
            "and build a dashboard that answers them. Put the code in a GitHub repository."
        ),
        "skills": ("SQL", "Python", "Data visualisation"),
        "industry": "Finance & Data",
        "duration_days": 21,
        "hours": "35",
        "capacity": 2,
        "supervisor": ("Tomasz Wójcik", "tomasz@northwind.example.com"),
        "deliverables": (
            ("Data cleaning notebook", 7, "A repository link with the notebook and a README."),
            ("Dashboard", 21, "A link to the live dashboard and a one-page guide."),
        ),
    },
    {
        "partner": 1,
        "title": "Customer survey analysis",
        "summary": "Analyse 600 free-text survey answers and present three recommendations.",
        "brief_md": (
            "A retailer ran a customer survey with open questions.\n\n"
            "**Your job:** code the answers into themes, quantify them, and present three "
            "recommendations to the client in a ten-minute talk."
        ),
        "skills": ("Qualitative analysis", "Presentation"),
        "industry": "Business & Marketing",
        "duration_days": 14,
        "hours": "25",
        "capacity": 1,
        "supervisor": ("Tomasz Wójcik", "tomasz@northwind.example.com"),
        "deliverables": (
            ("Coding scheme", 5, "The themes with definitions and example quotes."),
            ("Slides and recording", 14, "The slides (PDF) and a link to the recorded talk."),
        ),
    },
)

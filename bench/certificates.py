"""Certificate issuing throughput against WeasyPrint's own floor.

Prints figures and asserts nothing about time. The issuing path is what a batch job does
per certificate: CertificateData -> HTML -> PDF/A-3b -> sha256 -> file in a store. The
floor is WeasyPrint alone turning the same, already-made HTML into the same kind of PDF
(same stylesheets, FontConfiguration, fetcher, image cache, PDF/A variant and JSON
attachment), so the ratio shows what our own code adds. Both loops run interleaved,
document by document, in one warm process so neither side gets the cold fonts or a
quieter machine.

    .venv/bin/python bench/certificates.py --count 500
    .venv/bin/python bench/certificates.py --count 500 --workers 2

Through the real queue, as a release renders them (``bench/certificate_consumers.py``): N
``stint worker`` consumers against Redis and a database, against a process pool of the same
size measured in the same run.

    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python bench/certificates.py \
        --count 1000 --consumers 2 --workers 1
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import weasyprint

from certificates import (
    CertificateData,
    CertificateRenderer,
    InstitutionLogo,
    certificate_json_bytes,
    new_code,
    sha256_hex,
)
from certificates import render as render_module

NAMES = (
    "Zoë Ødegård",
    "Анна Петрова",
    "Ἀλέξανδρος Παπαδόπουλος",
    "王小明",
    "Nguyễn Thị Minh Khai",
    "Siobhán Ní Bhriain",
    "José María Ibáñez-García",
    "Kwame Mensah",
)
SKILLS = ("User research", "Prototyping", "SQL", "Stakeholder communication", "Python", "Figma")
LOGO_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 40">'
    b'<circle cx="20" cy="20" r="18" fill="#123c69"/>'
    b'<path d="M10 28 L20 8 L30 28 Z" fill="#fff"/></svg>'
)


def make_batch(count: int, page_size: str) -> list[CertificateData]:
    logo = InstitutionLogo(LOGO_SVG, "image/svg+xml")
    batch = []
    for index in range(count):
        code = new_code()
        batch.append(
            CertificateData(
                student_name=f"{NAMES[index % len(NAMES)]} {index}",
                project_title=f"Project {index}: onboarding research for a regional clinic",
                partner_name="Harbor Health Co-op",
                supervisor_name="María José Núñez",
                instructor_of_record="Prof. Eleni Papadopoulou",
                course_title="BUS 390: Applied Micro-internship",
                institution_name="Northbridge State University",
                hours_confirmed=Decimal(30 + index % 20) + Decimal("0.5"),
                credits=Decimal("3"),
                skills_demonstrated=SKILLS[: 2 + index % 5],
                issue_date=date(2025, 5, 16),
                code=code,
                verification_url=f"https://stint.example.edu/verify/{code}",
                page_size=page_size,  # type: ignore[arg-type]
                logo=logo,
            )
        )
    return batch


def store_path(store: Path, code: str) -> Path:
    return store / code[:2] / f"{code}.pdf"


def issue(renderer: CertificateRenderer, data: CertificateData, store: Path) -> tuple[str, int]:
    """The per-certificate work of the issuing job, minus the database row."""
    pdf = renderer.render(data)
    digest = sha256_hex(pdf)
    target = store_path(store, data.code)
    target.parent.mkdir(exist_ok=True)
    partial = target.with_suffix(".part")
    partial.write_bytes(pdf)
    os.replace(partial, target)
    return digest, len(pdf)


# The floor gets a long-lived image cache too, as the renderer has: WeasyPrint at its best.
FLOOR_IMAGE_CACHE: dict[str, object] = {}


def floor_render(
    renderer: CertificateRenderer, html: str, data: CertificateData, payload: bytes
) -> bytes:
    """WeasyPrint alone on ready HTML, with everything it needs prepared by the caller."""
    issued_at = datetime(2025, 5, 16, tzinfo=UTC)
    attachment = weasyprint.Attachment(
        string=payload,
        name="certificate.json",
        created=issued_at,
        modified=issued_at,
        relationship="Data",
        url_fetcher=renderer.fetcher,
    )
    pdf: bytes = weasyprint.HTML(string=html, url_fetcher=renderer.fetcher).write_pdf(
        stylesheets=renderer.stylesheets_for(data.page_size),
        font_config=renderer.font_config,
        pdf_variant=render_module.PDF_VARIANT,
        pdf_tags=render_module.PDF_TAGS,  # the same tagged output as Stint's, not a lighter one
        attachments=[attachment],
        cache=FLOOR_IMAGE_CACHE,
    )
    return pdf


_worker_renderer: CertificateRenderer | None = None
_worker_store: Path | None = None


def _worker_start(store: str) -> None:
    global _worker_renderer, _worker_store
    _worker_renderer = CertificateRenderer()
    _worker_store = Path(store)


def _worker_issue(data: CertificateData) -> tuple[str, int]:
    assert _worker_renderer is not None and _worker_store is not None
    return issue(_worker_renderer, data, _worker_store)


def peak_memory_mib(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # Linux reports KiB


def run_serial(batch: list[CertificateData], store: Path) -> tuple[float, float, int]:
    renderer = CertificateRenderer()
    for data in batch[:3]:  # warm fonts, CSS caches and imports on both paths
        floor_render(renderer, renderer.render_html(data), data, certificate_json_bytes(data))
        renderer.render(data)

    started = time.perf_counter()
    htmls = [renderer.render_html(data) for data in batch]
    payloads = [certificate_json_bytes(data) for data in batch]
    print(f"HTML made for the floor in {time.perf_counter() - started:.2f} s (not timed below)")
    # The floor's HTML filled these caches; the issuing path must start cold like a real batch.
    render_module.qr_svg.cache_clear()
    render_module._logo_data_url.cache_clear()

    issuing_seconds = 0.0
    floor_seconds = 0.0
    total_bytes = 0
    for data, html, payload in zip(batch, htmls, payloads, strict=True):
        started = time.perf_counter()
        _, size = issue(renderer, data, store)
        issuing_seconds += time.perf_counter() - started
        total_bytes += size

        started = time.perf_counter()
        floor_render(renderer, html, data, payload)
        floor_seconds += time.perf_counter() - started
    return issuing_seconds, floor_seconds, total_bytes


def run_pool(batch: list[CertificateData], store: Path, workers: int) -> float:
    with ProcessPoolExecutor(
        max_workers=workers, initializer=_worker_start, initargs=(str(store),)
    ) as pool:
        # Warm each worker's renderer outside the timing: a long-lived worker pays it once.
        list(pool.map(_worker_issue, batch[:workers], chunksize=1))
        started = time.perf_counter()
        results = list(pool.map(_worker_issue, batch, chunksize=8))
        elapsed = time.perf_counter() - started
    assert len(results) == len(batch)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=500)
    parser.add_argument("--workers", type=int, default=0, help="also issue through a pool")
    parser.add_argument("--page-size", choices=("A4", "Letter"), default="A4")
    parser.add_argument(
        "--consumers", type=int, default=0, help="issue through N stint worker consumers instead"
    )
    arguments = parser.parse_args()

    batch = make_batch(arguments.count, arguments.page_size)
    print(
        f"certificates: {arguments.count}, page size {arguments.page_size}, cores {os.cpu_count()}"
    )
    print(f"weasyprint {weasyprint.__version__}, python {sys.version.split()[0]}")
    if arguments.consumers:
        from bench.certificate_consumers import measure

        measure(batch, arguments.consumers, arguments.workers or os.cpu_count() or 1)
        return

    with tempfile.TemporaryDirectory(prefix="stint-cert-bench-") as folder:
        if arguments.workers:
            pool_store = Path(folder) / "pool"
            pool_store.mkdir()
            elapsed = run_pool(batch, pool_store, arguments.workers)
            print(
                f"pool of {arguments.workers}: {elapsed:.2f} s, "
                f"{arguments.count / elapsed:.1f} certificates/s "
                f"(children peak RSS {peak_memory_mib(resource.RUSAGE_CHILDREN):.0f} MiB)"
            )

        store = Path(folder) / "serial"
        store.mkdir()
        issuing, floor, total_bytes = run_serial(batch, store)
        stored = sum(1 for _ in store.rglob("*.pdf"))

    count = arguments.count
    print(
        f"issuing: {issuing:.2f} s, {1000 * issuing / count:.1f} ms each, "
        f"{count / issuing:.1f} certificates/s, {stored} stored, "
        f"{total_bytes / count / 1024:.1f} KiB average"
    )
    print(f"floor (WeasyPrint on ready HTML): {floor:.2f} s, {1000 * floor / count:.1f} ms each")
    print(f"peak RSS (this process): {peak_memory_mib(resource.RUSAGE_SELF):.0f} MiB")
    print(f"ratio issuing/floor: {issuing / floor:.2f}")


if __name__ == "__main__":
    main()
